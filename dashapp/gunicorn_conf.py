"""gunicorn settings: ``gunicorn -c python:dashapp.gunicorn_conf dashapp.wsgi:server``.

Read by ``python -m dashapp``, ``deploy/run-local.sh`` and the Docker image, so
the three run the same server. Every value can be changed by an environment
variable (listed in ``.env.example``).

Why these values:

- ``gthread``: gevent breaks Dash background callbacks (the forked job exits).
  Each open run-log WebSocket holds one thread for as long as it is open, so
  threads are sized from the WebSockets you expect plus room for requests.
- Workers follow the cores: the forecast routes are CPU work under the GIL,
  so more workers than cores only adds memory (each holds the served model).
- No control socket: gunicorn 26 opens one at a fixed path per user, and a
  second instance on the host (tests, a staging copy) would clash with it.
"""

from __future__ import annotations

import math
import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


cores = os.cpu_count() or 1
expected_websockets = _env_int("EXPECTED_WEBSOCKETS", 32)

bind = os.environ.get("BIND", "127.0.0.1:8050")
worker_class = "gthread"
workers = _env_int("WEB_WORKERS", max(2, cores))
threads = _env_int("WEB_THREADS", math.ceil(expected_websockets / workers) + 8)

# a worker that stops answering its heartbeat for this long is restarted; gthread
# heartbeats from its main thread, so a slow request does not trip it
timeout = _env_int("WEB_TIMEOUT", 120)
graceful_timeout = _env_int("WEB_GRACEFUL_TIMEOUT", 30)
# longer than nginx's upstream keepalive use, so gunicorn never closes first
keepalive = _env_int("WEB_KEEPALIVE", 75)

accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# trust X-Forwarded-* only from the proxy in front (nginx on loopback, or the
# compose network when FORWARDED_ALLOW_IPS is set to it)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

control_socket_disable = True
# heartbeat files in memory, not on a possibly slow container layer
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
