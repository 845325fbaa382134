#!/usr/bin/env bash
# The steps of action.yml. Inputs arrive as INPUT_* environment variables (never as ${{ }} in a script), so no
# input can inject shell code. Usage: action.sh install|report|comment|gate
set -euo pipefail
venv="${RUNNER_TEMP:-/tmp}/ci-carbon-venv"
out_dir="${RUNNER_TEMP:-/tmp}/ci-carbon"
ci_carbon="$venv/bin/ci-carbon"

install() {
  "${CI_CARBON_PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$CI_CARBON_ACTION_PATH"
}

report() {
  mkdir -p "$out_dir"
  local args=(report --format markdown --output "$out_dir/report.md" --json-output "$out_dir/report.json"
              --step-summary)
  if [ -n "${INPUT_MANIFEST:-}" ]; then args+=(--manifest "$INPUT_MANIFEST"); fi
  if [ -n "${INPUT_MLFLOW_URI:-}" ]; then args+=(--mlflow-uri "$INPUT_MLFLOW_URI"); fi
  local name
  while IFS= read -r name; do
    if [ -n "$name" ]; then args+=(--experiment "$name"); fi
  done < <(printf '%s\n' "${INPUT_EXPERIMENT:-}" | tr ',' '\n' | sed 's/^ *//; s/ *$//')
  if [ -n "${INPUT_FILTER:-}" ]; then args+=(--filter "$INPUT_FILTER"); fi
  if [ -n "${INPUT_CONFIG:-}" ]; then args+=(--config "$INPUT_CONFIG"); fi
  local base="${INPUT_BASE:-}"
  if [ -z "$base" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then base="origin/$GITHUB_BASE_REF"; fi
  if [ -n "$base" ]; then args+=(--base "$base"); fi
  local option variable
  for option in budget-warn-kg budget-fail-kg budget-job-warn-kg budget-job-fail-kg budget-warn-percent \
                budget-fail-percent; do
    variable="INPUT_$(printf '%s' "$option" | tr 'a-z-' 'A-Z_')"
    if [ -n "${!variable:-}" ]; then args+=("--$option" "${!variable}"); fi
  done
  local code=0
  "$ci_carbon" "${args[@]}" || code=$?
  {
    echo "exit_code=$code"
    echo "markdown_path=$out_dir/report.md"
  } >> "${GITHUB_OUTPUT:-/dev/null}"
  # 1 is a failed budget: the comment is still posted and the gate step fails the check afterwards
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then exit "$code"; fi
}

comment() {
  if [ ! -s "${CI_CARBON_BODY:-}" ]; then
    echo "::notice::ci-carbon: no report to comment with"
    return 0
  fi
  local args=(comment --body-file "$CI_CARBON_BODY" --behaviour "${INPUT_COMMENT:-update}")
  if [ -n "${INPUT_REPORT_KEY:-}" ]; then args+=(--key "$INPUT_REPORT_KEY"); fi
  "$ci_carbon" "${args[@]}"
}

gate() {
  if [ "${CI_CARBON_REPORT_EXIT:-0}" = "1" ]; then
    echo "::error::ci-carbon: the carbon budget was exceeded (see the comment or the job summary)"
    exit 1
  fi
}

"$@"
