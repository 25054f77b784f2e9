#!/usr/bin/env bash
# Installs Debian's PostgreSQL server (with pgcrypto, in postgresql-contrib on older releases)
# when no initdb is present. No service is started: tests/postgres_server.py runs a throwaway one.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_postgres: need root to install postgresql" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
# Debian's package starts a cluster service; the tests do not use it.
service postgresql stop >/dev/null 2>&1 || true
echo "install_postgres: installed postgresql"
