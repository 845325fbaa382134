#!/usr/bin/env bash
# The test command (README): on a fresh machine it installs Debian's chromium if missing, makes .venv, installs
# ci-carbon with its test extras, checks the code with ruff and runs the whole suite with `python -m pytest`.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Headless Chromium (Debian's package) opens the quarterly summary's HTML in the tests.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
