"""Nothing a run does reaches past this machine: its command line, its executing child,
MLflow and Optuna look up no outside name and connect to nothing but loopback.

MLflow 3 sends usage telemetry by default and turns it off by itself only under CI or
pytest; the run here is started without those markers, as an operator starts it, and
every name lookup and connection of its interpreters is recorded by an audit hook.
"""

from __future__ import annotations

import os

from tests.support.frames import make_frame
from tests.support.servers import cli

#: what the audit hook of every interpreter of the run writes down (``sitecustomize``
#: runs at each interpreter's start, and the run's children inherit ``PYTHONPATH``)
AUDIT = """
import os, sys
_log = os.environ["NET_AUDIT_LOG"]
def _hook(event, args):
    if event == "socket.getaddrinfo":
        with open(_log, "a") as f:
            f.write(f"lookup {args[0]}\\n")
    elif event == "socket.connect":
        with open(_log, "a") as f:
            f.write(f"connect {args[1]!r}\\n")
sys.addaudithook(_hook)
"""

#: what marks a CI job or a test to MLflow (``mlflow.telemetry.utils``): an operator's
#: machine has none of them, nor a telemetry setting of its own
NOT_AN_OPERATORS = (
    "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER", "CI", "GITHUB_ACTIONS", "GITLAB_CI",
    "CIRCLECI", "JENKINS_URL", "TRAVIS", "BUILDKITE", "CODEBUILD_BUILD_ID", "TF_BUILD",
    "BITBUCKET_BUILD_NUMBER", "TEAMCITY_VERSION", "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK",
)  # fmt: skip

LOCAL = ("localhost", "127.0.0.1", "::1", "None", "''", "", os.uname().nodename)


def _outside(line: str) -> bool:
    """A lookup of a name not of this machine, or a connection not to loopback or a file
    socket (``connect ('127.0.0.1', 5432)``, ``connect '/tmp/...'``)."""
    kind, _, where = line.partition(" ")
    if kind == "lookup":
        return where not in LOCAL
    return not where.startswith(("'/", "('127.", "('::1'", "('localhost'"))


def test_a_tracked_run_reaches_no_outside_host(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(AUDIT)
    csv = tmp_path / "sales.csv"
    make_frame(n_series=2, periods=90).to_csv(csv, index=False)
    log = tmp_path / "network.log"
    log.touch()
    path = os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))
    done = cli(
        tmp_path / "data", "run", "--csv", str(csv), "--models", "seasonal_naive",
        "--horizon", "7", "--jobs", "1", "--quiet",
        without=NOT_AN_OPERATORS, NET_AUDIT_LOG=str(log), PYTHONPATH=path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    outside = [line for line in log.read_text().splitlines() if _outside(line)]
    assert not outside, f"the run reached past the machine: {sorted(set(outside))}"
