#!/usr/bin/env bash
# The real-browser tests need Debian's chromium (a test tool's own browser download does not work offline).
set -euo pipefail
command -v chromium >/dev/null && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q chromium
