#!/usr/bin/env bash
# The test command (README): on a fresh machine it installs the Debian packages the tests run (chromium, PostgreSQL
# 15, MariaDB) if missing, makes .venv, installs ci-carbon with its test extras, checks the code with ruff and runs
# the whole suite with `python -m pytest`. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Headless Chromium opens the quarterly summary's HTML; tests/sources/mlflow/db_servers.py starts a PostgreSQL and a
# MariaDB of its own (temporary directory, 127.0.0.1, a free port, the package's unprivileged user when root).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
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
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
