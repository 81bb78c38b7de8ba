# syntax=docker/dockerfile:1
# The dashboard image; the compose file also runs the MLflow server and the Optuna
# dashboard from it, so all three use the same library versions.
#   docker build -t salesforecast .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: resolve and install dependencies with uv into /opt/venv -------------
FROM ${PYTHON_IMAGE} AS build
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
# dependencies only (a layer that survives code changes); the project itself runs
# from /app, so it is not installed as a package
COPY pyproject.toml README.md ./
RUN uv venv /opt/venv \
    && uv pip install --python /opt/venv/bin/python -r pyproject.toml --extra dashboards --extra scale

# ---- runtime: the venv and the code, no compilers, no package caches -------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DATA_DIR=/data \
    MLFLOW_DISABLE_TELEMETRY=true \
    BIND=0.0.0.0:8050 \
    FORWARDED_ALLOW_IPS=*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app \
    && mkdir -p /data/models /data/logs /data/cache /mlflow \
    && chown -R app:app /data /mlflow
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY forecasting ./forecasting
COPY pipeline ./pipeline
COPY storage ./storage
COPY dashapp ./dashapp
COPY deploy ./deploy
COPY pyproject.toml ./
USER 10001:10001
# Prophet's bundled CmdStan, xgboost and the app itself must work before the image ships
RUN python deploy/smoke_test.py && rm -rf /tmp/*

EXPOSE 8050
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/health', timeout=4)"]
# trains the bundled sample when /data is empty, then serves with dashapp/gunicorn_conf.py
CMD ["python", "-m", "dashapp", "--host", "0.0.0.0", "--port", "8050"]
