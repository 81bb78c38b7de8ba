#!/usr/bin/env bash
# Serve the dashboard as deployed, without Docker: gunicorn (dashapp/gunicorn_conf.py) on
# loopback behind nginx (deploy/nginx.conf.template) from Debian's packages.
#
#   deploy/run-local.sh               nginx on $PORT (8080), the app on $APP_PORT (8050)
#   deploy/run-local.sh --dashboards  also the MLflow UI on $MLFLOW_PORT (5000) and the
#                                     Optuna dashboard on $OPTUNA_DASHBOARD_PORT (8081),
#                                     on the same stores the app writes
#
# Settings come from the environment as for the app (DATA_DIR, DATABASE_URL, ...;
# see .env.example). On an empty DATA_DIR the app first trains the bundled sample.
# Pids, the rendered nginx configuration and nginx's logs go to $DATA_DIR/run/.
# Ctrl-C or SIGTERM stops everything it started; if one part dies, all stop.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
PORT="${PORT:-8080}"
APP_PORT="${APP_PORT:-8050}"
MLFLOW_PORT="${MLFLOW_PORT:-5000}"
OPTUNA_DASHBOARD_PORT="${OPTUNA_DASHBOARD_PORT:-8081}"
HOST=127.0.0.1

dashboards=0
for arg in "$@"; do
    case "$arg" in
        --dashboards) dashboards=1 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
    esac
done

NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
if [ ! -x "$NGINX" ]; then
    echo "nginx is not installed: apt-get install -y nginx" >&2
    exit 1
fi

# where the app keeps its data (one place decides: storage/settings.py)
eval "$("$PYTHON" -m storage.settings)"
export DATA_DIR DATABASE_URL MLFLOW_TRACKING_URI OPTUNA_STORAGE MAX_UPLOAD_MB
RUN_DIR="$DATA_DIR/run"
mkdir -p "$RUN_DIR/nginx-temp"

pids=()
stop_all() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -f "$RUN_DIR"/*.pid
    echo "stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

start() {  # start NAME COMMAND...: run in the background, remember its pid
    local name="$1"; shift
    "$@" &
    pids+=("$!")
    echo "$!" > "$RUN_DIR/$name.pid"
}

# MLflow's server sends usage telemetry unless told not to (the app's processes are told)
export MLFLOW_DISABLE_TELEMETRY="${MLFLOW_DISABLE_TELEMETRY:-true}"
if [ "$dashboards" = 1 ]; then
    export MLFLOW_UI_URL="${MLFLOW_UI_URL:-http://$HOST:$MLFLOW_PORT}"
    export OPTUNA_DASHBOARD_URL="${OPTUNA_DASHBOARD_URL:-http://$HOST:$OPTUNA_DASHBOARD_PORT}"
    "$PYTHON" -m pipeline.system  # the stores exist before the dashboards read them
    if [[ "$MLFLOW_TRACKING_URI" != http* ]]; then
        start mlflow "$PYTHON" -m mlflow server --host "$HOST" --port "$MLFLOW_PORT" \
            --backend-store-uri "$MLFLOW_TRACKING_URI" \
            --default-artifact-root "$DATA_DIR/mlartifacts" --workers 1
    fi
    start optuna-dashboard "$PYTHON" -c "from optuna_dashboard._cli import main; main()" "$OPTUNA_STORAGE" \
        --host "$HOST" --port "$OPTUNA_DASHBOARD_PORT"
fi

# the app: python -m dashapp trains the sample on an empty DATA_DIR, then execs
# gunicorn with dashapp/gunicorn_conf.py (the pid stays the same)
start gunicorn "$PYTHON" -m dashapp --host "$HOST" --port "$APP_PORT"

# nginx: render the template, wrap it in a main configuration that keeps every
# file nginx writes under $RUN_DIR (so it runs without root)
NGINX_PORT="$PORT" APP_UPSTREAM="$HOST:$APP_PORT" ASSETS_DIR="$ROOT/dashapp/assets" \
"$PYTHON" - "$ROOT/deploy/nginx.conf.template" > "$RUN_DIR/site.conf" <<'PY'
import os, re, sys
names = ("NGINX_PORT", "APP_UPSTREAM", "MAX_UPLOAD_MB", "ASSETS_DIR")
text = open(sys.argv[1]).read()
print(re.sub(r"\$\{(%s)\}" % "|".join(names), lambda m: os.environ[m.group(1)], text))
PY
user_line=""
if [ "$(id -u)" = 0 ]; then
    # as root, workers would run as nobody and could not read assets under /root
    user_line="user $(stat -c %U "$ROOT");"
fi
temp="$RUN_DIR/nginx-temp"
cat > "$RUN_DIR/nginx.conf" <<CONF
$user_line
worker_processes auto;
daemon off;
pid $RUN_DIR/nginx.pid;
error_log $RUN_DIR/nginx-error.log warn;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    access_log $RUN_DIR/nginx-access.log;
    client_body_temp_path $temp/body;
    proxy_temp_path $temp/proxy;
    fastcgi_temp_path $temp/fastcgi;
    uwsgi_temp_path $temp/uwsgi;
    scgi_temp_path $temp/scgi;
    include $RUN_DIR/site.conf;
}
CONF
"$NGINX" -t -q -p "$RUN_DIR" -e "$RUN_DIR/nginx-error.log" -c "$RUN_DIR/nginx.conf"
# nginx writes its own pid file; remember the master's pid for stop_all
"$NGINX" -p "$RUN_DIR" -e "$RUN_DIR/nginx-error.log" -c "$RUN_DIR/nginx.conf" &
pids+=("$!")

echo "dashboard on http://$HOST:$PORT (nginx) -> gunicorn on $HOST:$APP_PORT; data in $DATA_DIR"
if [ "$dashboards" = 1 ]; then
    echo "MLflow UI on $MLFLOW_UI_URL, Optuna dashboard on $OPTUNA_DASHBOARD_URL"
fi

# stay up while everything is up; when one part exits, stop the rest
set +e
wait -n "${pids[@]}"
status=$?
echo "a process exited (status $status); stopping the rest" >&2
exit "$status"
