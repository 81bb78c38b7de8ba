#!/usr/bin/env bash
# Install what the tests need (Python packages, PostgreSQL, Chromium, nginx, Redis) and start
# PostgreSQL.
# Run as root (CI) or as a user with sudo. Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

python3 -m pip install -q -e '.[test,dashboards]'

# PostgreSQL for the storage tests; Chromium for the browser tests (Playwright drives it).
missing=""
if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    missing="$missing postgresql"
fi
if [ ! -x /usr/bin/chromium ]; then missing="$missing chromium"; fi
# nginx for the deployment tests (deploy/run-local.sh)
if [ ! -x /usr/sbin/nginx ]; then missing="$missing nginx"; fi
# Redis for the Celery run workers' tests (tests/system/test_run_workers.py starts its own)
if ! command -v redis-server >/dev/null 2>&1; then missing="$missing redis-server"; fi
if [ -n "$missing" ]; then
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | grep -q "^$version main"; then
    $SUDO pg_createcluster "$version" main
fi
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
    $SUDO pg_ctlcluster "$version" main start
fi
user="$(id -un)"
$SUDO su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$user'\"" | grep -q 1 \
    || $SUDO su postgres -c "createuser -s $user"
echo "PostgreSQL $version is running; tests use role $user over /var/run/postgresql"
