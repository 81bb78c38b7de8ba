"""What wrk reports, as one JSON line: a Lua ``done`` hook to append to any wrk script,
and its parser. Shared by bench/load.py and bench/soak.py."""

from __future__ import annotations

import json
import re

DONE = """
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %f, "socket_errors": %d, "non_2xx": %d, ' ..
    '"p50_ms": %f, "p99_ms": %f, "max_ms": %f}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def parse(stdout: str) -> dict:
    """The RESULT line of a wrk run with ``DONE``, plus requests per second."""
    result = json.loads(re.search(r"RESULT (\{.*\})", stdout).group(1))
    result["rps"] = result["requests"] / result["seconds"]
    return result
