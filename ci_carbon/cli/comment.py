"""`ci-carbon comment`: the options of the sticky pull-request comment; the posting is ci_carbon.publish.comment's."""

from __future__ import annotations

import click

from ci_carbon.publish import forges


@click.command("comment", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--report", "report_file", metavar="FILE",
              help="The JSON report (`ci-carbon report --json-output FILE`): the comment is rendered from it to the "
                   "forge's size, leaving out the least important sections first; - reads standard input.")
@click.option("--body-file", metavar="FILE",
              help="Markdown written elsewhere, posted as it is (cut by whole blocks if too long); - reads standard "
                   "input.")
@click.option("--key", metavar="KEY", help="Report key: one sticky comment per key (default: $GITHUB_WORKFLOW/"
              "$GITHUB_JOB, on GitLab $CI_JOB_NAME, else 'default'); give each matrix leg its own.")
@click.option("--behaviour", "--behavior", "behaviour", type=click.Choice(["update", "new", "delete-and-new"]),
              default="update", show_default=True,
              help="update: edit our comment for the key, or create it; new: always create; "
                   "delete-and-new: delete ours, then create.")
@click.option("--dry-run", is_flag=True, help="Print the requests that would be sent (method, URL, JSON body); "
              "send none.")
@click.option("--forge", type=click.Choice(["auto", *forges.names()]), default="auto", show_default=True,
              help="auto: the forge whose CI variable is set ($GITLAB_CI: gitlab, $GITHUB_ACTIONS: github), else "
                   "github.")
@click.option("--pr", type=click.IntRange(min=1), metavar="N",
              help="Pull request number (GitHub) or merge request iid (GitLab); default: from the event.")
@click.option("--token-env", metavar="NAME", help="Variable holding the token (default: GITHUB_TOKEN; on GitLab "
              "GITLAB_TOKEN, then CI_CARBON_GITLAB_TOKEN).")
@click.option("--author", metavar="LOGIN", help="The login the token writes as (default: GET /user, or "
              "github-actions[bot] for GitHub Actions' GITHUB_TOKEN); only its comments are edited.")
@click.option("--report-time", metavar="ISO", envvar="CI_CARBON_REPORT_TIME",
              help="When the report was made (default: the event's; $CI_CARBON_REPORT_TIME); an older report "
                   "never replaces a newer one.")
@click.option("--summary-file", metavar="FILE", envvar="GITHUB_STEP_SUMMARY",
              help="Append the notice here when no comment is posted (default: $GITHUB_STEP_SUMMARY).")
@click.option("--github-output", metavar="FILE", help="Append comment_id, comment_url and comment_action "
              "(created, updated, unchanged, older, skipped) to FILE, e.g. $GITHUB_OUTPUT.")
@click.option("--head-sha", metavar="SHA", help="Find the pull request through the API as the one whose head is "
              "this commit (in a workflow_run job: ${{ github.event.workflow_run.head_sha }}), never from an "
              "artifact; refused (exit 2) when none, several, or another than --pr or the event's.")
@click.option("--head-branch", metavar="BRANCH", help="With --head-sha: the pull request's head branch "
              "(${{ github.event.workflow_run.head_branch }}); refused (exit 2) when the two disagree.")
def comment(report_file: str | None, body_file: str | None, forge: str, pr: int | None, token_env: str | None,
            key: str | None, behaviour: str, dry_run: bool, author: str | None, report_time: str | None,
            summary_file: str | None, github_output: str | None, head_sha: str | None,
            head_branch: str | None) -> None:
    """Post or update the pull-request comment (GitHub) or merge-request note (GitLab) with the report."""
    from ci_carbon.cli.output import refuse_overlaps
    from ci_carbon.core.files import Named
    from ci_carbon.publish.comment import head_options, post

    read = [Named(p, o) for o, p in (("--report", report_file), ("--body-file", body_file)) if p]
    refuse_overlaps(read, [("--summary-file", summary_file), ("--github-output", github_output)])
    post(report_file, body_file, forge, pr, token_env, key, behaviour, dry_run, author, report_time, summary_file,
         github_output, head_options(head_sha, head_branch))
