"""Secrets never printed (issue 9 item 6): one planted password, in every place a secret can enter, is absent from
every stream and every file each real command writes, with and without --debug, while the redacted URI (user and
host) still names the source.

Where it enters: a tracking URI's userinfo and query, MLFLOW_TRACKING_PASSWORD / GITHUB_TOKEN / CI_JOB_TOKEN,
GITHUB_API_URL's userinfo against the local GitHub stand-in, a real PostgreSQL role's password (wrong, and right
for a role without the grants), an unreachable server, a manifest's text. Where it could leave: stdout, stderr,
-o, --json-output, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, the comment body, a log record, a warning, a traceback.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from ci_carbon.redact import MASK, RedactingStream, redact, redacted
from tests.conftest import ROOT, Result
from tests.publish.conftest import github_env, run_comment
from tests.publish.fake_forge import FakeGitHub, Serving
from tests.sources.mlflow.db_servers import Postgres

PLANTED = "s3cr3t-Planted-9f2"
CREDENTIAL_VARIABLES = {"MLFLOW_TRACKING_PASSWORD": PLANTED, "GITHUB_TOKEN": PLANTED, "CI_JOB_TOKEN": PLANTED,
                        "MLFLOW_TRACKING_USERNAME": "alice"}
FAST_FAILURE = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}  # no 15 s of retries


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    full = {k: v for k, v in os.environ.items() if k not in ("CI_CARBON_DEBUG", "MLFLOW_TRACKING_URI")}
    full.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "ci_carbon", *args], capture_output=True, text=True, cwd=cwd,
                          env=full, timeout=180)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_nothing_leaked(result: Result, folder: Path) -> int:
    """The planted password in no stream and no file under ``folder``; the number of files read (so a test that
    wrote nothing cannot pass by accident)."""
    assert PLANTED not in result.out, result.out
    assert PLANTED not in result.err, result.err
    files = [p for p in folder.rglob("*") if p.is_file()]
    for path in files:
        assert PLANTED not in path.read_text(encoding="utf-8", errors="replace"), path
    return len(files)


# --- the function and the stream ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "shown"), [
    (f"http://alice:{PLANTED}@mlflow.example.com:5000", "http://alice:***@mlflow.example.com:5000"),
    (f"https://alice:{PLANTED}@mlflow.example.com/x", "https://alice:***@mlflow.example.com/x"),
    (f"postgresql://ci:{PLANTED}@db.example.com:5432/mlflow", "postgresql://ci:***@db.example.com:5432/mlflow"),
    (f"mysql+pymysql://ci:{PLANTED}@db.example.com/mlflow", "mysql+pymysql://ci:***@db.example.com/mlflow"),
    ("postgresql://ci:s3cr3t%40Planted%2F9f2@db/mlflow", "postgresql://ci:***@db/mlflow"),  # %40 is @, %2F is /
    ("postgresql://ci:s3cr3t@Planted/9f2@db/mlflow", "postgresql://ci:***@db/mlflow"),  # unencoded @ and /
    (f"http://h:5000/?password={PLANTED}&x=1", "http://h:5000/?password=***&x=1"),
    (f"http://h/api?token={PLANTED}", "http://h/api?token=***"),
    (f"https://gitlab.example.com/api/v4?private_token={PLANTED}", "https://gitlab.example.com/api/v4?private_token=***"),
    (f"Authorization: Bearer {PLANTED}", "Authorization: Bearer ***"),
    ("clone https://ghp_" + "A1b2" * 9 + "@github.com/o/r", "clone https://***@github.com/o/r"),
    (f"a,{'https://u:' + PLANTED + '@h'},b", "a,https://u:***@h,b"),  # a CSV field: the next one stays
])
def test_redact_masks_the_secret_and_keeps_user_and_host(text: str, shown: str):
    assert redact(text) == shown


def test_ordinary_text_is_left_as_it_is():
    for text in ("http://127.0.0.1:5000/api/2.0/mlflow/runs/search", "ci-carbon: jobs.yaml:3: hours: must be > 0",
                 "sqlite:///mlflow.db", "git@github.com:o/r.git", "tokens/s=1200"):
        assert redact(text) == text


def test_credential_variables_and_learned_uris_are_masked_anywhere(monkeypatch):
    monkeypatch.setenv("CI_JOB_TOKEN", PLANTED)
    assert redact(f"the driver said {PLANTED}!") == f"the driver said {MASK}!"
    monkeypatch.delenv("CI_JOB_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "postgresql://ci:s3cr3t%40Planted@db/mlflow")
    assert redact("password was s3cr3t@Planted") == f"password was {MASK}"  # decoded form, no URI around it


def test_a_secret_written_in_pieces_is_masked_by_the_stream_and_by_redacted():
    pieces = ["report postgresql://ci:s3cr", "3t-Planted", "-9f2@db/mlflow\nnext line\n", "tail"]
    sink = io.StringIO()
    stream = RedactingStream(sink)  # type: ignore[arg-type]
    for piece in pieces:
        stream.write(piece)
        stream.flush()
    stream.finish()
    expected = "report postgresql://ci:***@db/mlflow\nnext line\ntail"
    assert sink.getvalue() == expected
    assert "".join(redacted(pieces)) == expected


def test_staged_text_is_written_after_what_the_stream_holds_which_is_masked():
    """A report staged by core/outputs.py was redacted piece by piece; the stream writes it after its own held text,
    and masks that (a secret in a line still open when the report comes)."""
    sink = io.StringIO()
    stream = RedactingStream(sink)  # type: ignore[arg-type]
    stream.write("open line postgresql://ci:s3cr3t-Planted-9f2@db/mlflow ")
    stream.write_redacted("staged report\n")
    stream.write("after\n")
    stream.finish()
    assert sink.getvalue() == "open line postgresql://ci:***@db/mlflow staged report\nafter\n"


# --- manifest commands: the secret in a job's text and in the environment ------------------------------------------


MANIFEST = f"""\
version: 1
jobs:
  - name: "sync https://alice:{PLANTED}@data.example.com/x?token={PLANTED}"
    hardware: T4
    hours: 2
    country: DE
  - name: "job {PLANTED}"
    hardware: T4
    hours: 1
    country: DE
"""


@pytest.fixture
def planted_manifest(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    path = tmp_path / "jobs.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["markdown", "json", "csv"])
@pytest.mark.parametrize("debug", [False, True])
def test_report_files_outputs_summary_and_annotations(planted_manifest: Path, fmt: str, debug: bool):
    out = planted_manifest.parent / "out"
    env = {**CREDENTIAL_VARIABLES, "GITHUB_STEP_SUMMARY": str(out / "summary.md"), "GITHUB_ACTIONS": "true"}
    args = ["report", "--manifest", str(planted_manifest), "--format", fmt, "--json-output", str(out / "r.json"),
            "--github-output", str(out / "github_output"), "--step-summary", "--budget-fail-kg", "0.01",
            *(["--debug"] * debug)]
    to_file = cli(*args, "-o", str(out / f"report.{fmt}"), cwd=planted_manifest.parent, env=env)
    to_stdout = cli(*args, cwd=planted_manifest.parent, env=env)
    for result in (to_stdout, to_file):
        assert result.code == 1, result.err  # 0.1 kg over a 0.01 kg budget: annotations on stderr
        assert "::error" in result.err
    assert assert_nothing_leaked(to_stdout, out) == 4  # r.json, github_output, summary.md; then report.<fmt>
    assert_nothing_leaked(to_file, out)
    shown = "https://alice:***@data.example.com/x?token=***"
    # masked before "@" is escaped; "\:" keeps GitHub from making the user's URI a link (issue 9.7)
    in_markdown = r"https\://alice:\*\*\*&#64;data.example.com/x?token=***"
    report = shown if fmt != "markdown" else in_markdown
    assert report in to_stdout.out and report in (out / f"report.{fmt}").read_text(encoding="utf-8")
    assert in_markdown in (out / "summary.md").read_text(encoding="utf-8")
    assert "job ***" in (out / "r.json").read_text(encoding="utf-8")  # GITHUB_TOKEN's value, masked as a value


def test_validate_names_the_value_with_its_password_masked(tmp_path: Path):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(textwrap.dedent(f"""\
        version: 1
        jobs:
          - name: a
            hardware: "postgresql://bob:{PLANTED}@db.example.com/x"
            hours: 2
            country: DE
        """), encoding="utf-8")
    for debug in ([], ["--debug"]):
        result = cli("validate", str(manifest), *debug, cwd=tmp_path)
        assert result.code == 2
        assert result.err == (f"ci-carbon: {manifest}:4: jobs[0].hardware: unknown hardware "
                              "'postgresql://bob:***@db.example.com/x'; `ci-carbon hardware` lists the names\n")


# --- an MLflow server that cannot be reached, its URI carrying the password ---------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when this returns: nothing listens there


UNREACHABLE_COMMANDS = {
    "report json": ("report", "--format", "json", "-o", "out/r.json"),
    "report markdown": ("report", "-o", "out/r.md", "--json-output", "out/r.json"),
    "annotate": ("annotate",),
    "summary": ("summary", "--quarter", "2026-Q1", "-o", "out/s.html", "-o", "out/s.md", "-o", "out/s.json"),
}


@pytest.mark.parametrize("command", list(UNREACHABLE_COMMANDS))
@pytest.mark.parametrize("debug", [False, True])
def test_an_unreachable_server_is_one_line_naming_it_without_the_password(tmp_path: Path, command: str, debug: bool):
    (tmp_path / "out").mkdir()
    port = _closed_port()
    uri = f"http://alice:{PLANTED}@127.0.0.1:{port}/?token={PLANTED}"
    result = cli(*UNREACHABLE_COMMANDS[command], "--mlflow-uri", uri, *(["--debug"] * debug), cwd=tmp_path,
                 env={**CREDENTIAL_VARIABLES, **FAST_FAILURE, "GITHUB_STEP_SUMMARY": str(tmp_path / "out/sum.md")})
    assert result.code == 3, result.err
    assert result.err.count("\n") == 1, result.err
    assert f"http://alice:***@127.0.0.1:{port}" in result.err
    assert assert_nothing_leaked(result, tmp_path / "out") == 0  # nothing half-written either


# --- a real PostgreSQL: a wrong password, a role without grants, a read-only role writing back --------------------


class Store(NamedTuple):
    database: Postgres
    uri: dict[str, str]  # case -> URI as a user writes it


@pytest.fixture(scope="module")
def postgres_store(tmp_path_factory) -> Iterator[Store]:
    """A PostgreSQL with MLflow's tables (made by MLflow's own store) and one finished GPU run; roles whose password
    is the planted one: ``noperm`` may log in and nothing else, ``reader`` may SELECT every table."""
    from mlflow import MlflowClient
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    database = Postgres()
    try:
        database.create_database("mlflow")
        admin = database.uri("mlflow", "postgresql+psycopg")
        SqlAlchemyStore(admin, str(tmp_path_factory.mktemp("artifacts"))).engine.dispose()
        client = MlflowClient(admin)
        run = client.create_run(client.create_experiment("secrets"), start_time=1_767_225_600_000,
                                tags={"gpu": "A100-SXM4-80GB", "cloud": "gcp", "region": "us-central1"})
        client.set_terminated(run.info.run_id, end_time=1_767_225_600_000 + 3_600_000)
        with database._connect("mlflow") as connection:
            connection.execute(f"CREATE ROLE noperm LOGIN PASSWORD '{PLANTED}'")
            connection.execute(f"CREATE ROLE reader LOGIN PASSWORD '{PLANTED}'")
            connection.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
        at = f"127.0.0.1:{database.port}/mlflow"
        yield Store(database, {"wrong password": f"postgresql://reader:{PLANTED}-not@{at}",
                               "no permission": f"postgresql://noperm:{PLANTED}@{at}",
                               "read only": f"postgresql://reader:{PLANTED}@{at}"})
    finally:
        database.stop()


DATABASE_CASES = [  # (case, command, the cause the one line names)
    ("wrong password", ("report", "--format", "json", "-o", "out/r.json"), "password authentication failed"),
    ("wrong password", ("annotate",), "password authentication failed"),
    ("no permission", ("report", "-o", "out/r.md", "--json-output", "out/r.json"),
     "permission denied for table alembic_version"),
    ("no permission", ("annotate",), "permission denied for table alembic_version"),
    ("no permission", ("summary", "--quarter", "2026-Q1", "-o", "out/s.html", "-o", "out/s.json"),
     "permission denied for table alembic_version"),
    ("read only", ("annotate",), "not authorised to write run: permission denied for table"),
]


@pytest.mark.parametrize(("case", "command", "cause"), DATABASE_CASES)
@pytest.mark.parametrize("debug", [False, True])
def test_a_refusing_database_is_one_line_exit_2_naming_the_cause(postgres_store: Store, tmp_path: Path, case: str,
                                                                 command: tuple[str, ...], cause: str, debug: bool):
    (tmp_path / "out").mkdir()
    uri = postgres_store.uri[case]
    result = cli(*command, "--mlflow-uri", uri, *(["--debug"] * debug), cwd=tmp_path)
    assert result.code == 2, result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err  # not MLflow's, alembic's and SQLAlchemy's log records
    user = uri.split("://")[1].split(":")[0]
    assert lines[0].startswith("ci-carbon: postgresql")
    assert f"://{user}:***@127.0.0.1:{postgres_store.database.port}/mlflow" in lines[0]
    assert cause in lines[0] and lines[0].endswith("check the user, password and grants of the --mlflow-uri role")
    assert assert_nothing_leaked(result, tmp_path / "out") == 0


def test_the_read_only_role_reads_without_a_word_on_stderr(postgres_store: Store, tmp_path: Path):
    (tmp_path / "out").mkdir()
    result = cli("report", "--mlflow-uri", postgres_store.uri["read only"], "--format", "json", "-o", "out/r.json",
                 cwd=tmp_path)
    assert (result.code, result.err) == (0, "")
    report = (tmp_path / "out/r.json").read_text(encoding="utf-8")
    assert f'"where":"postgresql://reader:***@127.0.0.1:{postgres_store.database.port}/mlflow"' in report
    assert assert_nothing_leaked(result, tmp_path / "out") == 1


# --- the comment: GITHUB_TOKEN and GITHUB_API_URL's userinfo against the local GitHub stand-in --------------------


@pytest.fixture
def planted_body(tmp_path: Path) -> Path:
    body = tmp_path / "body.md"
    body.write_text(f"### Training carbon\n\nread from postgresql://ci:{PLANTED}@db.example.com/mlflow\n",
                    encoding="utf-8")
    return body


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """The GitHub stand-in (tests/publish/fake_forge.py) on 127.0.0.1."""
    fake = FakeGitHub()
    serving = Serving(fake)
    yield fake
    serving.close()


def _with_userinfo(url: str) -> str:
    return url.replace("http://", f"http://bot:{PLANTED}@")


def test_comment_dry_run_prints_urls_without_the_password(github: FakeGitHub, planted_body: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    env = github_env(github, token=PLANTED, GITHUB_API_URL=_with_userinfo(github.url),
                     GITHUB_STEP_SUMMARY=str(out / "summary.md"))
    for debug in ([], ["--debug"]):
        result = run_comment("--body-file", str(planted_body), "--dry-run", *debug, env=env)
        assert result.code == 0, result.err
        assert f"http://bot:***@127.0.0.1:{github.url.rsplit(':', 1)[1]}/repos/" in result.out
        assert "postgresql://ci:***@db.example.com/mlflow" in result.out
        assert_nothing_leaked(result, out)
    assert github.comments == []


def test_comment_posts_a_body_without_the_password(github: FakeGitHub, planted_body: Path, tmp_path: Path):
    github.tokens[PLANTED] = ("pat", "octocat")
    out = tmp_path / "out"
    out.mkdir()
    env = github_env(github, token=PLANTED, GITHUB_STEP_SUMMARY=str(out / "summary.md"))
    result = run_comment("--body-file", str(planted_body), "--github-output", str(out / "github_output"), env=env)
    assert result.code == 0, result.err
    assert assert_nothing_leaked(result, out) == 1
    [posted] = github.comments
    assert PLANTED not in posted["body"] and "postgresql://ci:***@db.example.com/mlflow" in posted["body"]


def test_a_rejected_token_is_one_line_without_it(github: FakeGitHub, planted_body: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    env = github_env(github, token=PLANTED, GITHUB_API_URL=_with_userinfo(github.url))
    for debug in ([], ["--debug"]):
        result = run_comment("--body-file", str(planted_body), "--pr", "2", "--github-output",
                             str(out / "github_output"), *debug, env=env)
        assert result.code == 2, result.err
        assert result.err == ("ci-carbon: GITHUB_TOKEN: the token was rejected by GitHub (401: Bad credentials): "
                              "check that it is set and has not expired.\n")
        assert_nothing_leaked(result, out)
    assert github.comments == []


# --- what libraries say: log records, warnings and a traceback --------------------------------------------------


LIBRARY_NOISE = f"""
import logging, sys, warnings
import click
from ci_carbon.cli import handler

@click.command()
def noisy():
    uri = "postgresql://ci:{PLANTED}@db.example.com/mlflow"
    logging.getLogger("sqlalchemy.pool").error("pool failed for %s", uri)
    logging.getLogger("mlflow.store.db.utils").info("Updating database tables at %s", uri)
    warnings.warn(f"deprecated store {{uri}}", FutureWarning)
    raise RuntimeError(f"cannot open {{uri}}")

sys.exit(handler.run(noisy, sys.argv[1:]))
"""


@pytest.mark.parametrize("debug", [False, True])
def test_library_logs_and_warnings_only_with_debug_and_the_traceback_redacted(tmp_path: Path, debug: bool):
    proc = subprocess.run([sys.executable, "-c", LIBRARY_NOISE, *(["--debug"] * debug)], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    assert result.code == 4
    assert_nothing_leaked(result, tmp_path)
    shown = "postgresql://ci:***@db.example.com/mlflow"
    last = result.err.splitlines()[-1]
    assert last.startswith(f"ci-carbon: internal error: RuntimeError: cannot open {shown}. This is a bug")
    if not debug:
        assert result.err.count("\n") == 1, result.err  # no log record, no warning
        return
    assert f"ERROR sqlalchemy.pool: pool failed for {shown}\n" in result.err
    assert f"Updating database tables at {shown}" in result.err
    assert f"FutureWarning: deprecated store {shown}" in result.err
    assert "Traceback (most recent call last):" in result.err and f"RuntimeError: cannot open {shown}\n" in result.err
