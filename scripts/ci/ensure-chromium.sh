#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (driven by playwright-core, whose own
# browser downloads need a CDN this machine cannot reach).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
echo "[ensure-chromium] installing chromium ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
