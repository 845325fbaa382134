"""Post the rendered report as one sticky pull-request comment (or merge-request note): `ci-carbon comment`.

In order: read the body (the JSON report, or Markdown from elsewhere), choose the forge (forges.py, the registry:
github.py, gitlab.py), find where to post (with --head-sha, which pull request, through the API), render or cut the
body to the forge entry's limit (ci_carbon/render/sized.py), upsert under the marker (forge.py, markers.py), and say
what happened. Exit codes as the design doc: 0 posted or deliberately not posted (no token, a fork's read-only token,
not a pull request, a newer report already there); 2 bad input, a token/pull request the forge refuses, a pull
request --head-sha cannot trust, a next page on another host; 3 the forge could not be reached after retries.

Imports are light at module level (click, the standard library, this package's own stdlib-only modules); requests,
jinja2 and the forge modules load only when a comment is posted.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import NamedTuple

import click

from ci_carbon.core import files
from ci_carbon.core.outputs import Outputs
from ci_carbon.errors import InputError, InputProblem, SourceUnreachable, one_line
from ci_carbon.publish import forges, markers
from ci_carbon.publish.forge import Forge, Outcome, Target, upsert
from ci_carbon.publish.markers import Marker
from ci_carbon.publish.transport import DryRun, ForgeError, Http, Sent
from ci_carbon.redact import redact, remember
from ci_carbon.render.filters import ghdata


class Body(NamedTuple):
    """What to post: the JSON report (rendered here to the forge's size), or Markdown written elsewhere."""

    report: dict | None = None
    markdown: str | None = None


def _read_text(path: str, option: str) -> str:
    """The body's text: a regular file (checked before it is read: never a pipe or device that hangs) or, for -,
    standard input."""
    from ci_carbon.publish import words

    try:
        raw = files.read_stdin() if path == files.STDIN else files.read_bytes(path)
        text = raw.decode("utf-8-sig")
    except files.Unreadable as err:
        raise InputError([InputProblem(path, None, option, str(err))]) from None
    except UnicodeDecodeError as err:
        raise InputError([InputProblem(path, None, option, words.line("unreadable", err))]) from None
    if not text.strip():
        raise InputError([InputProblem(path, None, option, words.line("empty_body"))])
    return text


def read_body(report_file: str | None, body_file: str | None) -> Body:
    """The body from --report (a ci-carbon/report/v1 JSON file) or --body-file (Markdown)."""
    from ci_carbon.publish import words
    from ci_carbon.render.payload import SCHEMA

    if (report_file is None) == (body_file is None):
        raise InputError([InputProblem("ci-carbon", None, "--report", "give --report FILE (the JSON report) or "
                                       "--body-file FILE (Markdown), one of them")])
    if body_file is not None:
        return Body(markdown=_read_text(body_file, "--body-file"))
    assert report_file is not None
    text = _read_text(report_file, "--report")
    try:
        data = json.loads(text)
    except ValueError as err:
        raise InputError([InputProblem(report_file, None, "--report", words.line("not_a_report", err))]) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("jobs"), list):
        raise InputError([InputProblem(report_file, None, "--report", words.line("not_a_report",
                                       f"its schema is not {SCHEMA}"))])
    return Body(report=data)


def _report_time(option: str | None, implied: datetime | None) -> datetime:
    """--report-time (or CI_CARBON_REPORT_TIME), else the time the event implies, else now."""
    from ci_carbon.publish import words

    if option:
        try:
            return markers.parse_time(option)
        except ValueError:
            raise InputError([InputProblem("--report-time", None, None, words.line("bad_time", option))]) from None
    return implied or datetime.now(timezone.utc).replace(microsecond=0)


def _workflow_command(kind: str, text: str) -> str:
    """A GitHub Actions workflow command line (::notice:: / ::warning::), its data escaped as GitHub documents."""
    return f"::{kind} title=ci-carbon::{ghdata(text)}"


def _tell(forge: str, text: str, kind: str = "notice") -> None:
    """A message on stderr: a workflow annotation on GitHub, a plain line elsewhere."""
    commands = forges.entry(forge, {}).workflow_commands
    click.echo(_workflow_command(kind, text) if commands else f"ci-carbon: {one_line(text)}", err=True)


def _notice(out: Outputs, reason: str, target: Target, summary_file: str | None) -> None:
    """No comment could be posted, on purpose: say why on stderr and in the job summary; exit 0."""
    from ci_carbon.publish import words

    _tell(target.forge, words.line("notice", reason, target))
    if summary_file:
        out.append(summary_file, "\n" + words.block("messages.j2", "summary_notice", reason, target) + "\n",
                   "--summary-file")


def _target(chosen: forges.Entry, env: Mapping[str, str], pr: int | None, token_env: str | None) -> Target:
    return forges.load(chosen).target(env, pr, token_env)


def _client(target: Target, sender: Http | DryRun, author: str | None, env: Mapping[str, str]) -> Forge:
    chosen = forges.entry(target.forge, env)
    return forges.load(chosen).client(target, sender, author, env, chosen.limit)


def _sender(target: Target, dry_run: bool) -> Http | DryRun:
    if dry_run or not target.token:
        return DryRun()
    return Http(forges.load(forges.entry(target.forge, {})).headers(target.token))


def _fitted(body: Body, client: Forge, marker: Marker) -> str:
    """The report with no marker of its own, within what fits beside our marker: rendered from the JSON report to
    the forge's size (sections left out by priority), or Markdown from elsewhere cut by whole blocks."""
    from ci_carbon.publish import words
    from ci_carbon.render import sized

    budget = client.limit - sized.size(marker.line() + "\n")
    if body.report is not None:
        text, left = sized.fitted(body.report, budget, client.name, client.limit)
        text = markers.neutralise(text)  # user text is already escaped in it; this keeps the rule in one place
        if left:
            _tell(client.name, words.line("shortened", client.name, client.limit, len(left)))
        return redact(text)  # the comment is public: no secret in it (a mask is shorter, so it still fits)
    text, was_cut = sized.cut(markers.neutralise(body.markdown or ""), budget,
                              words.block("messages.j2", "cut_note", client.name, client.limit))
    if was_cut:
        _tell(client.name, words.line("shortened", client.name, client.limit, 1))
    return redact(text)


def _raise_for(err: ForgeError, target: Target) -> None:
    """A ForgeError as the documented exit: 2 for what the user must fix, 3 when the forge stayed unreachable."""
    from ci_carbon.publish import words

    text = words.line("failure", err.reason, target, err.status, err.detail)
    if err.reason in ("unreachable", "rate_limited"):
        raise SourceUnreachable(text) from None
    where = {"rejected": target.token_name, "identity": "--author"}.get(err.reason, target.where)
    raise InputError([InputProblem(where, None, None, text)]) from None


def _report(outcome: Outcome, target: Target) -> None:
    from ci_carbon.publish import words

    if outcome.ignored:
        _tell(target.forge, words.line("ignored", outcome.ignored, outcome.identity), "warning")
    if outcome.action == "older":
        _tell(target.forge, words.line("older", target, outcome))
        return
    click.echo(words.line("done", outcome, target))


def _print_dry_run(sent: Sequence[Sent], target: Target, client: Forge, behaviour: str, key: str) -> None:
    from ci_carbon.publish import words

    click.echo(words.block("messages.j2", "dry_run", target, behaviour, key, client.edit_url()))
    for request in sent:
        click.echo(f"{request.method} {request.url}")
        if request.body is not None:
            click.echo(json.dumps(request.body, ensure_ascii=False))


@dataclass(frozen=True)
class Choices:
    """The options that shape the post, once the body and the target are known."""

    key: str | None
    behaviour: str
    dry_run: bool
    author: str | None
    report_time: str | None
    summary_file: str | None
    github_output: str | None = None


def _write_outputs(out: Outputs, path: str | None, outcome: Outcome | None) -> None:
    """comment_id, comment_url and comment_action for the next steps of a workflow ('' and skipped when none)."""
    if not path:
        return
    from ci_carbon.publish.actions import write_outputs

    comment = outcome.comment if outcome else None
    write_outputs(out, path, {"comment_id": str(comment.id) if comment and comment.id is not None else "",
                         "comment_url": comment.url if comment else "",
                         "comment_action": outcome.action if outcome else "skipped"})


def _post(out: Outputs, target: Target, body: Body, choices: Choices, env: Mapping[str, str]) -> None:
    sender = _sender(target, choices.dry_run)
    client = _client(target, sender, choices.author, env)
    marker = Marker(choices.key or target.key, _report_time(choices.report_time, target.time))
    try:
        outcome = upsert(client, _fitted(body, client, marker), marker, choices.behaviour)
    except ForgeError as err:
        if err.reason != "read_only":
            _raise_for(err, target)
        _notice(out, "read_only", target, choices.summary_file)
        _write_outputs(out, choices.github_output, None)
        return
    if isinstance(sender, DryRun):
        _print_dry_run(sender.sent, target, client, choices.behaviour, marker.key)
        outcome = None  # type: ignore[assignment]
    else:
        _report(outcome, target)
    _write_outputs(out, choices.github_output, outcome)


@dataclass(frozen=True)
class HeadOptions:
    """--head-sha and --head-branch: find the pull request through the API instead of trusting a number."""

    sha: str | None = None
    branch: str | None = None


_SHA = re.compile(r"[0-9a-fA-F]{7,64}")


def head_options(sha: str | None, branch: str | None) -> HeadOptions:
    """--head-sha and --head-branch checked: a SHA of hexadecimal digits (it goes into a URL path); a branch only
    beside a SHA (a branch name alone can be pushed by anyone with a fork)."""
    from ci_carbon.publish import words

    if sha is not None and not _SHA.fullmatch(sha):
        raise InputError([InputProblem("--head-sha", None, None, words.line("bad_sha", sha))])
    if branch is not None and sha is None:
        raise InputError([InputProblem("--head-branch", None, None, "needs --head-sha SHA beside it")])
    if branch is not None and not branch.strip():
        raise InputError([InputProblem("--head-branch", None, None, "is empty: give the pull request's head branch")])
    return HeadOptions(sha.lower() if sha else None, branch)


def _by_head(target: Target, head: HeadOptions, dry_run: bool, env: Mapping[str, str]) -> Target:
    """The target with the pull request the forge names for the head commit (see forge.resolve); exit 2 when
    none can be trusted. A number from --pr or the event must agree. A dry run prints the lookup it would send."""
    from ci_carbon.publish import words
    from ci_carbon.publish.forge import resolve

    if head.sha is None:
        return target
    if dry_run:  # nothing is sent, so nothing can be resolved: say what would be asked, keep --pr or the event's
        lookup = DryRun()
        _client(target, lookup, None, env).heads(head.sha)
        click.echo(words.line("dry_run_lookup", lookup.sent[0].url, target.number, target.sign))
        return target
    client = _client(target, _sender(target, dry_run), None, env)
    try:
        heads = client.heads(head.sha)
    except ForgeError as err:
        _raise_for(err, target)
        raise
    found = resolve(heads, head.sha, head.branch, target.number)
    if isinstance(found, str):
        project = target.label or target.project
        raise InputError([InputProblem("--head-sha", None, None, words.line(
            "head_refused", found, target.forge, head.sha, head.branch, target.number, project))])
    return replace(target, number=found)


def post(report_file: str | None, body_file: str | None, forge: str, pr: int | None, token_env: str | None,
         key: str | None, behaviour: str, dry_run: bool, author: str | None, report_time: str | None,
         summary_file: str | None, github_output: str | None = None, head: HeadOptions = HeadOptions()) -> None:
    """Post or update the pull-request comment (GitHub) or merge-request note (GitLab) with the report."""
    env = os.environ
    body = read_body(report_file, body_file)
    target = _target(forges.entry(forge, env), env, pr, token_env)
    remember(target.token)  # masked wherever it might appear, whatever the variable --token-env names is called
    with Outputs() as out:  # the job summary's notice and the step outputs: appended together, or neither
        if not target.token and not dry_run:
            _notice(out, "no_token" if target.number is not None or head.sha else "no_pull_request", target,
                    summary_file)
            _write_outputs(out, github_output, None)
            return
        target = _by_head(target, head, dry_run, env)
        if target.number is None:
            _notice(out, "no_pull_request", target, summary_file)
            _write_outputs(out, github_output, None)
            return
        _post(out, target, body, Choices(key, behaviour, dry_run, author, report_time, summary_file, github_output),
              env)
