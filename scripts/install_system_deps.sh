#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real, only when missing.
#   chromium (default): the docs browser test (tests/test_docs_browser.py). Playwright's own
#     browser download is not used: it fetches from a host CI cannot reach.
#   postgres: the PostgreSQL server and pgcrypto (postgresql-contrib on older releases) for
#     `make test-postgres`; tests/postgres_server.py starts a throwaway server, never the service.
#   java: a Java 17+ runtime for pyspark's local Spark (`make test-spark`); skipped when `java` runs.
# Usage: install_system_deps.sh [chromium] [postgres] [java]
set -euo pipefail

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(chromium)

missing=()
for component in "${wanted[@]}"; do
  case "$component" in
    chromium) command -v chromium >/dev/null 2>&1 || missing+=(chromium) ;;
    postgres) compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql postgresql-contrib) ;;
    java) java -version >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless) ;;
    *) echo "install_system_deps: unknown component '$component' (chromium, postgres, java)" >&2; exit 2 ;;
  esac
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_system_deps: need root to install: ${missing[*]}" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's postgresql package starts a cluster service; the tests do not use it.
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  service postgresql stop >/dev/null 2>&1 || true
fi
echo "install_system_deps: installed ${missing[*]}"
