"""``/api/series``: every series id and the groups they form."""

from __future__ import annotations

from flask.views import MethodView

from dashapp.api.common import resource
from dashapp.api.schemas.catalogue import SeriesResponse
from dashapp.state import app_state
from pipeline.serving import queries

blp = resource("series", "The series and groups a request can name")


@blp.route("/series")
class SeriesList(MethodView):
    @blp.response(200, SeriesResponse)
    def get(self):
        """Every series id (largest first) and the groups they form."""
        reads = app_state().reads
        details = queries.series_details(reads)
        return {
            **queries.series_options(reads),
            "dataset_id": reads.dataset_id(),
            "details": details.to_dict(orient="records") if details is not None else [],
        }
