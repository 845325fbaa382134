#!/usr/bin/env bash
# The steps of action.yml. Inputs arrive as INPUT_* environment variables (never as ${{ }} in a script), so no
# input can inject shell code. Usage: action.sh plan|install|report|comment|gate; the install's parts (uv, venv,
# wheel, packages SPEC...) are separate so that benchmarks/bench_action.py times each as a runner runs it.
# Runs on Linux, macOS and Windows runners (Git Bash: the venv's programs are in Scripts\ and end in .exe).
set -euo pipefail

action_path="${CI_CARBON_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
venv="$temp/ci-carbon-venv"
out_dir="$temp/ci-carbon"
tools="$temp/ci-carbon-tools"
python="${CI_CARBON_PYTHON:-python3}"
constraints="$action_path/scripts/constraints.txt"
if [ "${RUNNER_OS:-}" = "Windows" ] || [ -d "$venv/Scripts" ]; then
  bin="$venv/Scripts" exe=".exe"
else
  bin="$venv/bin" exe=""
fi
ci_carbon="$bin/ci-carbon$exe"
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1 UV_LINK_MODE=copy PIP_DISABLE_PIP_VERSION_CHECK=1

fail() {  # one ::error:: line and the exit code of bad input
  echo "::error title=ci-carbon::$1" >&2
  exit 2
}

extras() {
  # The extras to install: the input's (comma-separated), plus mlflow whenever mlflow-uri is set.
  local list="${INPUT_EXTRAS:-}"
  list="${list// /}"
  if [[ ! "$list" =~ ^[a-z0-9,-]*$ ]]; then fail "extras: '$list' is not a comma-separated list of extra names"; fi
  if [ -n "${INPUT_MLFLOW_URI:-}" ] && [[ ",$list," != *,mlflow,* ]]; then list="${list:+$list,}mlflow"; fi
  printf '%s' "$list"
}

release_version() {
  # The action's own version when its ref is a release tag (vX.Y.Z); empty for any other ref. An action checked
  # out as an archive has no .git: git filled .git_archival.txt in when the archive was made.
  local describe=""
  if [ -e "$action_path/.git" ] && command -v git >/dev/null 2>&1; then
    describe="$(git -C "$action_path" describe --tags --exact-match --match 'v[0-9]*.[0-9]*.[0-9]*' 2>/dev/null || true)"
  elif [ -f "$action_path/.git_archival.txt" ]; then
    describe="$(sed -n 's/^describe-name: //p' "$action_path/.git_archival.txt")"
  fi
  if [[ "$describe" =~ ^v([0-9]+\.[0-9]+\.[0-9]+)$ ]]; then printf '%s' "${BASH_REMATCH[1]}"; fi
}

source_id() {
  # What the venv is built from, for the cache key: a version, or the action's commit for any other ref.
  local version="${INPUT_VERSION:-$(release_version)}"
  if [ -n "$version" ]; then printf 'v%s' "$version"; return; fi
  if [ -e "$action_path/.git" ] && command -v git >/dev/null 2>&1; then
    git -C "$action_path" describe --always --dirty --abbrev=40 2>/dev/null && return
  fi
  sed -n 's/^node: //p' "$action_path/.git_archival.txt" 2>/dev/null || true
}

plan() {
  # The cache key of the venv: what it is built from, the extras, the Python and where it lives.
  local id python_id
  id="$(source_id)"
  python_id="$("$python" -c 'import sys; print(sys.version.split()[0], sys.executable)')"
  if [ -z "$id" ] || [[ "$id" == *-dirty ]]; then id="none-$RANDOM$RANDOM"; fi  # nothing stable: never reused
  echo "key=ci-carbon-venv-2-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$id-$(extras | tr ',' '+')-$(
    printf '%s|%s' "$python_id" "$venv" | "$python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')" \
    >> "${GITHUB_OUTPUT:-/dev/null}"
}

uv_path() {
  # uv from PATH, else the pinned one (scripts/get_uv.py); prints nothing when neither can be had (pip then).
  if [ "${CI_CARBON_INSTALLER:-}" = "pip" ]; then return 0; fi
  if command -v uv >/dev/null 2>&1; then command -v uv; return 0; fi
  if [ -x "$tools/uv$exe" ]; then printf '%s\n' "$tools/uv$exe"; return 0; fi  # fetched by an earlier step
  "$python" "$action_path/scripts/get_uv.py" "$tools" || echo "::notice title=ci-carbon::uv unavailable, installing with pip" >&2
}

make_venv() {
  local uv="$1"
  rm -rf "$venv"
  if [ -n "$uv" ]; then
    "$uv" venv --quiet --python "$python" "$venv"
  else
    "$python" -m venv "$venv"
  fi
}

wheel() {
  # The action's own code as a wheel (built into $tools/dist; templates precompiled by hatch_build.py).
  local uv="$1" dist="$tools/dist"
  rm -rf "$dist"
  if [ -n "$uv" ]; then
    "$uv" build --quiet --wheel --build-constraint "$constraints" --out-dir "$dist" "$action_path" >&2
  else
    PIP_CONSTRAINT="$constraints" "$python" -m pip wheel --quiet --no-deps --wheel-dir "$dist" "$action_path" >&2
  fi
  ls "$dist"/ci_carbon-*.whl
}

pip_install() {
  local uv="$1"
  shift
  if [ -n "$uv" ]; then
    "$uv" pip install --quiet --python "$bin/python$exe" --constraint "$constraints" "$@"
  else
    "$bin/python$exe" -m pip install --quiet --constraint "$constraints" "$@"
  fi
}

install() {
  # A venv of ci-carbon's own (never the caller's Python): a version from the index when one is given or the
  # action's ref is a release, else the wheel of the action's directory. A restored cache is kept as it is.
  local key="${CI_CARBON_CACHE_KEY:-}"
  if [ -n "$key" ] && [ "$(cat "$venv/.ci-carbon-key" 2>/dev/null)" = "$key" ] && "$ci_carbon" --version >/dev/null 2>&1
  then
    echo "ci-carbon: the cached environment is used ($("$ci_carbon" --version))"
    return 0
  fi
  local version="${INPUT_VERSION:-}" list uv release=""
  if [ -n "$version" ] && [[ ! "$version" =~ ^[0-9A-Za-z.!+-]+$ ]]; then fail "version: '$version' is not a version"; fi
  if [ -z "$version" ]; then release="$(release_version)"; fi
  list="$(extras)"
  uv="$(uv_path)"
  make_venv "$uv"
  if [ -n "$version" ]; then
    pip_install "$uv" "ci-carbon${list:+[$list]}==$version"
  elif [ -z "$release" ] || ! pip_install "$uv" "ci-carbon${list:+[$list]}==$release"; then
    # not a release, or its wheel is not on the index (yet): the action's own code, built here
    if [ -n "$release" ]; then echo "::notice title=ci-carbon::ci-carbon $release is not on the package index; building it" >&2; fi
    pip_install "$uv" "$(wheel "$uv")${list:+[$list]}"
  fi
  if [ -n "$key" ]; then printf '%s' "$key" > "$venv/.ci-carbon-key"; fi
  "$ci_carbon" --version
}

escape_data() {  # text as the data of a workflow command: %, CR and LF escaped as GitHub documents
  local text="${1//%/%25}"
  text="${text//$'\r'/%0D}"
  printf '%s' "${text//$'\n'/%0A}"
}

cause_of() {  # what an exit code means (DESIGN.md)
  case "$1" in
    1) printf 'the carbon budget was exceeded' ;;
    2) printf 'bad input or usage' ;;
    3) printf 'a source or the forge could not be reached' ;;
    4) printf 'internal error in ci-carbon (please report it with this log)' ;;
    *) printf 'ci-carbon failed with exit code %s' "$1" ;;
  esac
}

summary_failure() {  # a failed step in the job summary: what failed and ci-carbon's own lines, inert
  local what="$1" code="$2" errors="$3"
  [ -n "${GITHUB_STEP_SUMMARY:-}" ] || return 0
  {
    printf '\n### ci-carbon: %s failed (exit %s, %s)\n\n<pre>\n' "$what" "$code" "$(cause_of "$code")"
    head -c 4000 "$errors" 2>/dev/null | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/@/\&#64;/g'
    printf '</pre>\n'
  } >> "$GITHUB_STEP_SUMMARY" || true
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
  rm -f "$out_dir/report.md" "$out_dir/report.json"
  "$ci_carbon" "${args[@]}" 2> "$out_dir/report.err" || code=$?
  cat "$out_dir/report.err" >&2
  {
    echo "exit_code=$code"
    echo "errors_path=$out_dir/report.err"
    if [ -s "$out_dir/report.md" ]; then echo "markdown_path=$out_dir/report.md"; fi
    if [ -s "$out_dir/report.json" ]; then echo "report_path=$out_dir/report.json"; fi
  } >> "${GITHUB_OUTPUT:-/dev/null}"
  # 1 is a failed budget: the comment is still posted. Any other failure skips the comment; the gate step fails
  # the check with the cause, so that this step never stops the ones after it.
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then summary_failure "the report" "$code" "$out_dir/report.err"; fi
}

comment() {
  if [ ! -s "${CI_CARBON_REPORT:-}" ]; then
    echo "::notice title=ci-carbon::no report to comment with"
    return 0
  fi
  mkdir -p "$out_dir"
  # the comment is rendered from the JSON report to GitHub's size (sections left out by priority, never cut)
  local args=(comment --report "$CI_CARBON_REPORT" --behaviour "${INPUT_COMMENT:-update}"
              --github-output "${GITHUB_OUTPUT:-/dev/null}")
  if [ -n "${INPUT_REPORT_KEY:-}" ]; then args+=(--key "$INPUT_REPORT_KEY"); fi
  if [ "${CI_CARBON_DRY_RUN:-}" = "1" ]; then args+=(--dry-run); fi  # benchmarks and tests: send nothing
  local code=0
  "$ci_carbon" "${args[@]}" 2> "$out_dir/comment.err" || code=$?
  cat "$out_dir/comment.err" >&2
  echo "exit_code=$code" >> "${GITHUB_OUTPUT:-/dev/null}"
  # the report is already in the job summary; say there why no comment came
  if [ "$code" -ne 0 ]; then summary_failure "the comment" "$code" "$out_dir/comment.err"; fi
}

first_line() {
  grep -v '^::' "$1" 2>/dev/null | grep -m 1 . || true
}

gate() {
  # The check's verdict: 1 only for a failed budget; 2, 3, 4 name their cause. The comment's failure fails too.
  local code="${CI_CARBON_REPORT_EXIT:-}" comment_code="${CI_CARBON_COMMENT_EXIT:-0}"
  if [ -z "$code" ]; then
    echo "::error title=ci-carbon::the report step did not run"
    exit 4
  fi
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then
    echo "::error title=ci-carbon::$(cause_of "$code") (exit $code): $(escape_data "$(first_line "${CI_CARBON_ERRORS:-}")")"
    exit "$code"
  fi
  if [ "$comment_code" -ne 0 ]; then
    echo "::error title=ci-carbon::the comment was not posted, $(cause_of "$comment_code") (exit $comment_code): $(
      escape_data "$(first_line "$out_dir/comment.err")")"
  fi
  if [ "$code" -eq 1 ]; then
    echo "::error title=ci-carbon::the carbon budget was exceeded (see the comment or the job summary)"
    exit 1
  fi
  if [ "$comment_code" -ne 0 ]; then exit "$comment_code"; fi
}

case "${1:-}" in
  plan|install|report|comment|gate) "$1" ;;
  uv) uv_path ;;
  venv) make_venv "$(uv_path)" ;;
  wheel) wheel "$(uv_path)" ;;
  packages) shift; pip_install "$(uv_path)" "$@" ;;
  *) echo "usage: action.sh plan|install|report|comment|gate" >&2; exit 2 ;;
esac
