#!/usr/bin/env bash
# Install what the tests need beyond Python, when missing: redis-server, Chromium, Node.js,
# nginx and docker-compose (Debian packages; the deployment tests run nginx and validate the
# compose files with `docker-compose config`, no Docker daemon needed), configurable-http-proxy
# (npm: JupyterHub's proxy, for tests/hub), then the package itself with its test extras
# (which builds the front end with npm).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
command -v npm >/dev/null || need+=(nodejs npm)  # builds the front end, runs its tests
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v docker-compose >/dev/null || need+=(docker-compose)
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ ${#need[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v configurable-http-proxy >/dev/null; then
  $sudo npm install -g --silent configurable-http-proxy
fi
python -m pip install -q -e ".[test]"
