"""schemathesis against the generated OpenAPI document: the document is the contract.

Every check runs, fuzzing and the stateful phase (links between operations, inferred
from the document), with one exception: a schema-valid request may name a series, a
group, a model or a driver the serving run does not have, which only the data can say;
such requests get the 422 the document declares for every operation, so the check that
every schema-valid request is accepted (``positive_data_acceptance``) is left out. No
5xx, every status code, content type, header and body as documented, nothing the
document forbids accepted. Starting a run (``POST /api/runs``) launches real training:
its inputs are tested in test_api and test_auth; cancel and promote need a run.
"""

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

CONFIG = SchemathesisConfig.from_dict(
    {
        "auth": {"openapi": {BEARER_SCHEME: {"bearer": TOKEN}}},
        "checks": {"positive_data_acceptance": {"enabled": False}},
    }
)
#: operations left out of the fuzzing and the stateful phase (see the module docstring)
LEFT_OUT = {("POST", "/api/runs"), ("POST", "/api/runs/{run_id}/cancel"),
            ("POST", "/api/runs/{run_id}/promote")}  # fmt: skip


def _schema(tmp_path_factory, trained_dir):
    import shutil

    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    shutil.copytree(trained_dir, data_dir)
    app = create_app({"DATA_DIR": str(data_dir), "ADMIN_TOKEN": TOKEN, "TESTING": True})
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app.server, config=CONFIG)
    for method, path in LEFT_OUT:
        schema = schema.exclude(method=method, path=path)
    return schema


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, trained_dir):
    return _schema(tmp_path_factory, trained_dir)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case):
    case.call_and_validate()


def test_sequences_of_calls_answer_as_documented(api_schema):
    """The stateful phase: calls chained by the links the document implies (a run's id
    from the runs list into its logs, a data set from an upload into the EDA)."""
    workflow = api_schema.as_state_machine()
    workflow.run(settings=settings(max_examples=15, deadline=None,
                                   suppress_health_check=list(HealthCheck)))  # fmt: skip
