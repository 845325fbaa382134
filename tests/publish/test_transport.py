"""Rate-limit arithmetic and the exhausted-retries path, without waiting for real clocks."""

from __future__ import annotations

from pathlib import Path

from ci_carbon.publish.transport import MAX_WAIT, rate_limit_wait, same_origin
from tests.publish.conftest import github_env, run_comment
from tests.publish.fake_forge import Answer, FakeGitHub

NOW = 1_780_000_000.0


def test_rate_limit_waits():
    assert rate_limit_wait(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)}, NOW) == 31
    assert rate_limit_wait(429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) - 5)}, NOW) == 0
    assert rate_limit_wait(403, {"Retry-After": "7"}, NOW) == 7  # GitHub's secondary rate limit
    assert rate_limit_wait(403, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, 1_792_567_670.0) == 10
    assert rate_limit_wait(403, {"x-ratelimit-remaining": "12"}, NOW) is None  # a permission problem, not a limit
    assert rate_limit_wait(403, {}, NOW) is None
    assert rate_limit_wait(502, {"Retry-After": "3"}, NOW) is None  # urllib3's Retry handles 5xx
    assert MAX_WAIT <= 60


def test_the_token_never_leaves_the_apis_host():
    assert same_origin("https://api.github.com/repos/a/b/issues/2/comments?page=2", "https://api.github.com")
    assert not same_origin("https://evil.example/repos?page=2", "https://api.github.com")
    assert not same_origin("http://api.github.com/x", "https://api.github.com")


def test_5xx_after_every_retry_is_exit_3(github: FakeGitHub, example_body: Path):
    github.script["GET"] = [Answer(502)] * 4
    result = run_comment("--body-file", str(example_body), "--author", "octocat", env=github_env(github))
    assert result.code == 3 and result.err.count("\n") == 1
    assert result.err == f"ci-carbon: GitHub could not be reached at {github.url} after retries (502).\n"
    assert len(github.requests) == 4 and github.comments == []


def test_a_next_link_to_another_host_is_refused(github: FakeGitHub, example_body: Path):
    github.script["GET"] = [Answer(200, [], {"Link": '<https://evil.example/steal?page=2>; rel="next"'})]
    result = run_comment("--body-file", str(example_body), "--author", "octocat", env=github_env(github))
    assert result.code == 2 and result.err.count("\n") == 1, result.err
    assert "(evil.example): not followed, and the token was not sent there" in result.err
    assert [r.method for r in github.requests] == ["GET"]
