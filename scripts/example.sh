#!/usr/bin/env bash
# The main job on the bundled example (README): installs ci-carbon into .venv and reports examples/jobs.yaml.
# Extra arguments go to `ci-carbon report`, e.g. `--format json`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check .
.venv/bin/ci-carbon report --manifest examples/jobs.yaml "$@"
