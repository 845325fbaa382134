#!/usr/bin/env bash
# The test command (README): on a fresh machine it makes .venv, installs ci-carbon with its test extras,
# checks the code with ruff and runs the whole suite with `python -m pytest`. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
