#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real, only when missing:
# `chromium` for the docs browser test (tests/test_docs_browser.py). Playwright's own browser
# download is not used: it fetches from a host CI cannot reach, the Debian package installs
# through apt like any other dependency.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

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
echo "install_system_deps: installed ${missing[*]}"
