"""No output destroys input or lies about completeness (issue 9, item 5), through the real command line.

Every case runs `python -m ci_carbon` in a new process: the exit code, the one stderr line and the files left on disk
are what a user or a CI job sees. Inputs that are no regular file (a FIFO with no writer, /dev/zero, a directory, a
file over the size cap) are one line and exit 2 within a timeout; `--manifest -` reads standard input; outputs are
refused when they would overwrite an input or each other, and an unknown `-o` extension is refused; every output
of a command is written together at its end, so a failing step (an unwritable job summary) leaves no report
behind, and a replaced report is replaced whole.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT, Result

TIMEOUT_S = 60  # a FIFO read without care never returns: the subprocess would hit this and the test fail
CONFIG = "version: 1\nbudget:\n  warn_kg: 1000\n"
REPORT_KNOWN = ".md, .markdown, .json, .csv"
SUMMARY_KNOWN = ".md, .markdown, .html, .htm, .csv, .json"


def cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Result:
    """The real command line in a clean environment (no GITHUB_* of a CI job running these tests)."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "CI_CARBON_", "MLFLOW_")) and k not in ("GITLAB_CI", "CI")}
    proc = subprocess.run([sys.executable, "-m", "ci_carbon", *args], capture_output=True, text=True, cwd=cwd,
                          env={**base, **(env or {})}, input=stdin if stdin is not None else "", timeout=TIMEOUT_S)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def refused(result: Result, line: str) -> None:
    """Exit 2, nothing on stdout, exactly this one line on stderr."""
    assert (result.code, result.out, result.err) == (2, "", f"ci-carbon: {line}\n"), result


@pytest.fixture
def jobs(tmp_path: Path) -> Path:
    path = tmp_path / "jobs.yaml"
    shutil.copyfile(EXAMPLE, path)
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class TestOutputOverInput:
    """An output that is an input, or another output, is refused before any work; the file keeps every byte."""

    def test_output_is_the_manifest(self, jobs: Path):
        before = jobs.read_bytes()
        refused(cli("report", "--manifest", str(jobs), "--format", "markdown", "-o", str(jobs)),
                f"{jobs}: --output: is the same file as the --manifest input; it would be overwritten, so write "
                "to another file")
        assert jobs.read_bytes() == before

    def test_output_is_the_manifest_by_another_name(self, jobs: Path, tmp_path: Path):
        """A symlink and a relative path with '..' name the same file: compared as files, not as strings."""
        link = tmp_path / "link.json"
        link.symlink_to(jobs)
        before = jobs.read_bytes()
        refused(cli("report", "--manifest", str(jobs), "-o", str(link)),
                f"{link}: --output: is the same file as the --manifest input; it would be overwritten, so write to "
                "another file")
        roundabout = f"sub/../{jobs.name}"
        (tmp_path / "sub").mkdir()
        refused(cli("report", "--manifest", jobs.name, "--json-output", roundabout, cwd=tmp_path),
                f"{roundabout}: --json-output: is the same file as the --manifest input; it would be overwritten, "
                "so write to another file")
        assert jobs.read_bytes() == before and link.is_symlink()

    def test_output_is_the_config(self, jobs: Path, tmp_path: Path):
        config = tmp_path / "ci-carbon.json"
        config.write_text(CONFIG, encoding="utf-8")
        refused(cli("report", "--manifest", str(jobs), "--config", str(config), "-o", str(config)),
                f"{config}: --output: is the same file as the --config input; it would be overwritten, so write to "
                "another file")
        assert config.read_text(encoding="utf-8") == CONFIG

    def test_the_default_config_is_an_input_too(self, jobs: Path, tmp_path: Path):
        """./ci-carbon.yaml is read when no --config names a file: it is protected as well."""
        (tmp_path / "ci-carbon.yaml").write_text(CONFIG, encoding="utf-8")
        refused(cli("report", "--manifest", "jobs.yaml", "--format", "json", "-o", "ci-carbon.yaml", cwd=tmp_path),
                "ci-carbon.yaml: --output: is the same file as the --config input; it would be overwritten, so "
                "write to another file")
        assert (tmp_path / "ci-carbon.yaml").read_text(encoding="utf-8") == CONFIG

    def test_json_output_is_the_output(self, jobs: Path, tmp_path: Path):
        target = tmp_path / "report.json"
        target.write_text("earlier\n", encoding="utf-8")
        refused(cli("report", "--manifest", str(jobs), "-o", str(target), "--json-output", str(target)),
                f"{target}: --json-output: is the same file as --output; give each output its own file")
        assert target.read_text(encoding="utf-8") == "earlier\n"
        assert listing(tmp_path) == ["jobs.yaml", "report.json"]

    def test_two_outputs_on_standard_output(self, jobs: Path):
        """The Markdown report and the JSON report both on stdout would be one unreadable stream."""
        refused(cli("report", "--manifest", str(jobs), "--json-output", "-"),
                "-: --json-output: is standard output, as is --output; give one of them a file")
        refused(cli("report", "--manifest", str(jobs), "-o", "-", "--json-output", "-"),
                "-: --json-output: is standard output, as is --output; give one of them a file")

    def test_step_outputs_into_the_report(self, jobs: Path, tmp_path: Path):
        target = tmp_path / "report.md"
        refused(cli("report", "--manifest", str(jobs), "-o", str(target), "--github-output", str(target)),
                f"{target}: --github-output: is the same file as --output; give each output its own file")
        assert not target.exists()

    def test_summary_outputs_twice_and_over_the_manifest(self, jobs: Path, tmp_path: Path):
        twice = tmp_path / "s.md"
        refused(cli("summary", "--manifest", str(jobs), "-o", str(twice), "-o", str(twice)),
                f"{twice}: --output: is the same file as --output; give each output its own file")
        copy = tmp_path / "jobs.md"
        shutil.copyfile(jobs, copy)
        refused(cli("summary", "--manifest", str(copy), "-o", str(copy)),
                f"{copy}: --output: is the same file as the --manifest input; it would be overwritten, so write to "
                "another file")
        assert copy.read_bytes() == jobs.read_bytes() and not twice.exists()

    def test_output_over_a_sqlite_store(self, tmp_path: Path):
        store = tmp_path / "mlflow.db"
        store.write_bytes(b"SQLite format 3\x00")
        refused(cli("report", "--mlflow-uri", f"sqlite:///{store}", "--format", "json", "-o", str(store)),
                f"{store}: --output: is the same file as the --mlflow-uri input; it would be overwritten, so write "
                "to another file")
        assert store.read_bytes() == b"SQLite format 3\x00"

    def test_comment_appends_never_into_its_report(self, tmp_path: Path):
        body = tmp_path / "report.md"
        body.write_text("### report\n", encoding="utf-8")
        refused(cli("comment", "--body-file", str(body), "--summary-file", str(body), "--dry-run"),
                f"{body}: --summary-file: is the same file as the --body-file input; it would be overwritten, so "
                "write to another file")
        assert body.read_text(encoding="utf-8") == "### report\n"


class TestUnknownExtension:
    """The format is chosen by the extension only when it names one; else the user is told the known ones."""

    @pytest.mark.parametrize("name, said", [("report.txt", "has an unknown extension '.txt'"),
                                            ("report.PDF", "has an unknown extension '.pdf'"),
                                            ("report", "has no extension")])
    def test_report_refuses(self, tmp_path: Path, name: str, said: str):
        target = tmp_path / name
        refused(cli("report", "--manifest", str(EXAMPLE), "-o", str(target)),
                f"{target}: --output: {said}; name it {REPORT_KNOWN}, or give --format")
        assert not target.exists()

    def test_summary_refuses(self, tmp_path: Path):
        target = tmp_path / "footprint.txt"
        refused(cli("summary", "--manifest", str(EXAMPLE), "-o", str(target)),
                f"{target}: --output: has an unknown extension '.txt'; name it {SUMMARY_KNOWN}, or give --format")

    def test_format_given_writes_any_name(self, tmp_path: Path):
        target = tmp_path / "report.txt"
        result = cli("report", "--manifest", str(EXAMPLE), "--format", "csv", "-o", str(target))
        assert (result.code, result.out) == (0, ""), result.err
        assert target.read_text(encoding="utf-8") == cli("report", "--manifest", str(EXAMPLE), "--format", "csv").out

    def test_a_stream_without_extension_is_standard_output_by_another_name(self):
        """/dev/stdout (a pipe here) has no extension and no rename: written once, as standard output would be."""
        assert cli("report", "--manifest", str(EXAMPLE), "-o", "/dev/stdout").out == \
            cli("report", "--manifest", str(EXAMPLE)).out


class TestInputsThatAreNoFile:
    """A FIFO, a device, a directory or a huge file as an input: one line, exit 2, never a hang or MemoryError."""

    def test_fifo_manifest(self, tmp_path: Path):
        fifo = tmp_path / "jobs.yaml"
        os.mkfifo(fifo)
        for args in (("validate", str(fifo)), ("report", "--manifest", str(fifo))):
            refused(cli(*args), f"{fifo}: is a named pipe (FIFO), not a regular file; give a manifest file")

    def test_fifo_config_and_body(self, tmp_path: Path):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        refused(cli("report", "--manifest", str(EXAMPLE), "--config", str(fifo)),
                f"{fifo}: is a named pipe (FIFO), not a regular file; give a configuration file")
        refused(cli("comment", "--body-file", str(fifo), "--dry-run"),
                f"{fifo}: --body-file: is a named pipe (FIFO), not a regular file; give a file")

    def test_dev_zero(self):
        refused(cli("report", "--manifest", "/dev/zero"),
                "/dev/zero: is a character device, not a regular file; give a manifest file")
        refused(cli("report", "--codecarbon", "/dev/zero"),
                "/dev/zero: is a character device, not a regular file; give a CodeCarbon emissions.csv")
        refused(cli("comment", "--report", "/dev/zero", "--dry-run"),
                "/dev/zero: --report: is a character device, not a regular file; give a file")

    def test_directory(self, tmp_path: Path):
        refused(cli("validate", str(tmp_path)), f"{tmp_path}: is a directory, not a manifest file")
        refused(cli("report", "--manifest", str(EXAMPLE), "--config", str(tmp_path)),
                f"{tmp_path}: is a directory, not a configuration file")
        refused(cli("comment", "--report", str(tmp_path), "--dry-run"),
                f"{tmp_path}: --report: is a directory, not a file")

    def test_too_large(self, tmp_path: Path):
        """A sparse file of 257 MiB (no disk used): refused from its size, before a byte is read."""
        big = tmp_path / "jobs.yaml"
        with open(big, "wb") as handle:
            handle.truncate(257 * 1024 * 1024)
        refused(cli("validate", str(big)), f"{big}: is too large (257 MiB; at most 256 MiB is read)")

    def test_fifo_event_payload(self, tmp_path: Path):
        fifo = tmp_path / "event.json"
        os.mkfifo(fifo)
        result = cli("comment", "--body-file", str(EXAMPLE), "--dry-run", "--forge", "github",
                     env={"GITHUB_EVENT_PATH": str(fifo), "GITHUB_REPOSITORY": "o/r"})
        assert result.code == 2 and result.err.count("\n") == 1, result
        assert result.err.startswith(f"ci-carbon: {fifo}: GITHUB_EVENT_PATH: ")
        assert "is a named pipe (FIFO), not a regular file" in result.err


class TestStandardInput:
    """`--manifest -` (and `validate -`) read the manifest from standard input, named <stdin>."""

    def test_report_from_stdin_equals_the_file(self):
        text = EXAMPLE.read_text(encoding="utf-8")
        for fmt in ("markdown", "csv"):
            piped = cli("report", "--manifest", "-", "--format", fmt, stdin=text)
            assert piped.code == 0, piped.err
            assert piped.out == cli("report", "--manifest", str(EXAMPLE), "--format", fmt).out

    def test_json_names_stdin_as_the_source(self):
        import json

        piped = json.loads(cli("report", "--manifest", "-", "--format", "json",
                               stdin=EXAMPLE.read_text(encoding="utf-8")).out)
        from_file = json.loads(cli("report", "--manifest", str(EXAMPLE), "--format", "json").out)
        assert piped["source"]["where"] == "<stdin>" and from_file["source"]["where"] == str(EXAMPLE)
        assert piped["jobs"] == from_file["jobs"] and piped["totals"] == from_file["totals"]

    def test_validate_stdin(self):
        assert cli("validate", "-", stdin=EXAMPLE.read_text(encoding="utf-8")).out == "<stdin>: ok, 7 jobs\n"
        bad = "version: 1\njobs:\n  - name: a\n    hardware: T4\n    hours: -1\n"
        result = cli("validate", "-", stdin=bad)
        assert result.code == 2 and result.err.startswith("ci-carbon: <stdin>:5: jobs[0].hours: must be above 0")
        assert result.err.count("\n") == 1

    def test_empty_stdin_is_an_empty_manifest(self):
        result = cli("report", "--manifest", "-", stdin="")
        assert result.code == 2 and result.err.startswith("ci-carbon: <stdin>") and "is empty" in result.err

    def test_base_needs_a_file(self):
        refused(cli("report", "--manifest", "-", "--base", "main", stdin=EXAMPLE.read_text(encoding="utf-8")),
                "<stdin>: --base: compares with the manifest's file as it was at the base; give --manifest FILE, "
                "not standard input")


class TestWrittenWholeOrNotAtAll:
    """Files are replaced through a temporary file beside them; a failing step leaves nothing new behind."""

    def test_no_temporary_file_is_left(self, jobs: Path, tmp_path: Path):
        outputs = tmp_path / "gho"
        result = cli("report", "--manifest", str(jobs), "-o", str(tmp_path / "r.md"), "--json-output",
                     str(tmp_path / "r.json"), "--github-output", str(outputs))
        assert result.code == 0, result.err
        assert listing(tmp_path) == ["gho", "jobs.yaml", "r.json", "r.md"]
        assert (tmp_path / "r.md").read_text(encoding="utf-8") == cli("report", "--manifest", str(jobs)).out
        assert "json_path<<" in outputs.read_text(encoding="utf-8")

    def test_replaced_through_a_symlink_keeps_the_link(self, tmp_path: Path):
        real = tmp_path / "real.md"
        real.write_text("old\n", encoding="utf-8")
        link = tmp_path / "link.md"
        link.symlink_to(real)
        assert cli("report", "--manifest", str(EXAMPLE), "-o", str(link)).code == 0
        assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("### 🌱 ")

    @pytest.mark.parametrize("summary", ["directory", "/dev/full"])
    def test_unwritable_step_summary_leaves_no_report(self, jobs: Path, tmp_path: Path, summary: str):
        """The job summary cannot be opened (a directory) or written (/dev/full: ENOSPC on write): no new report,
        no JSON, the old report and $GITHUB_OUTPUT as they were (the append made before is truncated back)."""
        target = summary if summary.startswith("/") else str(tmp_path / summary)
        if not summary.startswith("/"):
            os.mkdir(target)
        old = tmp_path / "old.md"
        old.write_text("yesterday's report\n", encoding="utf-8")
        outputs = tmp_path / "gho"
        outputs.write_text("earlier=1\n", encoding="utf-8")
        why = "No space left on device" if summary == "/dev/full" else "Is a directory"
        refused(cli("report", "--manifest", str(jobs), "-o", str(old), "--json-output", str(tmp_path / "r.json"),
                    "--github-output", str(outputs), "--step-summary", env={"GITHUB_STEP_SUMMARY": target}),
                f"{target}: --step-summary: cannot be written: {why}")
        assert old.read_text(encoding="utf-8") == "yesterday's report\n"
        assert outputs.read_text(encoding="utf-8") == "earlier=1\n"
        assert sorted(set(listing(tmp_path)) - {"directory"}) == ["gho", "jobs.yaml", "old.md"]

    def test_unwritable_output_folder(self, tmp_path: Path):
        target = tmp_path / "missing" / "r.md"
        refused(cli("report", "--manifest", str(EXAMPLE), "-o", str(target)),
                f"{target}: --output: cannot be written: No such file or directory")

    def test_a_failing_summary_file_writes_no_comment_outputs(self, tmp_path: Path):
        """`comment` without a token: the notice goes to the job summary and the step outputs, together or not."""
        outputs = tmp_path / "gho"
        outputs.write_text("earlier=1\n", encoding="utf-8")
        body = tmp_path / "body.md"
        body.write_text("### report\n", encoding="utf-8")
        post = ("comment", "--body-file", str(body), "--forge", "github", "--pr", "7")  # no token: a notice
        result = cli(*post, "--summary-file", "/dev/full", "--github-output", str(outputs),
                     env={"GITHUB_REPOSITORY": "o/r"})
        assert result.code == 2 and result.err.endswith(
            "ci-carbon: /dev/full: --summary-file: cannot be written: No space left on device\n"), result
        assert outputs.read_text(encoding="utf-8") == "earlier=1\n"
        ok = cli(*post, "--summary-file", str(tmp_path / "s.md"), "--github-output", str(outputs),
                 env={"GITHUB_REPOSITORY": "o/r"})
        assert ok.code == 0, ok.err
        assert "comment_action<<" in outputs.read_text(encoding="utf-8") and (tmp_path / "s.md").read_text()


def test_standard_output_held_past_memory_moves_to_a_file(monkeypatch: pytest.MonkeyPatch):
    """Held text beyond the in-memory limit goes to a temporary file and comes back whole, in order."""
    from ci_carbon.core import outputs

    monkeypatch.setattr(outputs, "STDOUT_IN_MEMORY", 10)
    spool = outputs._Spool()
    for piece in ("abcdef", "ghijkl", "mnop"):  # 6 + 6 = 12 > 10: moved to a file after the second piece
        spool.write(piece)
    assert spool._memory is None
    assert "".join(spool.chunks()) == "abcdefghijklmnop"
    small = outputs._Spool()
    small.write("abc")
    assert list(small.chunks()) == ["abc"]  # one write
    spool.close()


def test_a_replaced_report_keeps_its_permissions(tmp_path: Path):
    target = tmp_path / "report.md"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    assert cli("report", "--manifest", str(EXAMPLE), "-o", str(target)).code == 0
    assert (target.stat().st_mode & 0o777, target.read_text(encoding="utf-8")[:5]) == (0o640, "### 🌱")
