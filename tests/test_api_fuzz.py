"""schemathesis against the generated OpenAPI document: no 5xx, every response as documented."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from dashapp import create_app
from dashapp.auth import BEARER_SCHEME

#: the app runs with a token, as deployed, so the bearer scheme the document declares
#: is checked both ways: missing or wrong tokens must get 401, the right one gets through
TOKEN = "fuzz-admin-token"

# A request can match the schema and still name a series, a model or a driver the
# data set does not have: the API answers 422 saying which (documented for every
# operation that takes arguments). Everything else about the checks stays default:
# no 5xx, status codes, content types, headers and bodies as documented.
CONFIG = SchemathesisConfig.from_dict(
    {
        "auth": {"openapi": {BEARER_SCHEME: {"bearer": TOKEN}}},
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 404, 409, 422]}},
    }
)


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, trained_dir):
    import shutil

    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    shutil.copytree(trained_dir, data_dir)
    app = create_app({"DATA_DIR": str(data_dir), "ADMIN_TOKEN": TOKEN, "TESTING": True})
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app.server, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


# starting a run launches real training: its inputs are tested in test_api and test_auth
@schema.exclude(method="POST", path="/api/runs").parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case):
    case.call_and_validate()
