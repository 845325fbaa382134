"""The forges `ci-carbon comment` posts to: :data:`REGISTRY` is the one list of them.

Each entry names the module that implements the forge (imported only when chosen: the GitLab path never imports
GitHub's module), the environment variable that says a job runs there (``--forge auto``), and the most characters a
comment body may have there, which the rendered report is fitted to (ci_carbon/render/sized.py). A new forge
(Bitbucket, Gitea) is one module implementing :class:`ForgeModule` plus one entry here; nothing else chooses.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from ci_carbon.publish.forge import Forge, Target
    from ci_carbon.publish.transport import DryRun, Http


class Entry(NamedTuple):
    name: str  # the --forge value, Target.forge, the templates' word for it
    module: str  # the module implementing ForgeModule
    detect: str  # a variable set in that forge's CI jobs: --forge auto picks the first entry whose variable is set
    limit: int  # characters a comment body may have (the forge answers 422/400 beyond)
    workflow_commands: bool = False  # messages as GitHub Actions workflow commands (::notice::) rather than lines


REGISTRY: tuple[Entry, ...] = (
    Entry("github", "ci_carbon.publish.github", "GITHUB_ACTIONS", 65_536, workflow_commands=True),
    Entry("gitlab", "ci_carbon.publish.gitlab", "GITLAB_CI", 1_000_000),
)
DEFAULT = "github"  # when no entry's variable is set (a run on a laptop, another CI)


class ForgeModule(Protocol):
    """What a forge's module provides: where to post (from the CI environment), its headers, its client."""

    def target(self, env: Mapping[str, str], pr: int | None, token_env: str | None) -> Target:
        """Where to post, from the CI variables and the options; ``number`` None outside a pull request."""
        ...

    def headers(self, token: str) -> dict[str, str]:
        """The HTTP headers that carry the token (and the API version) on every request."""
        ...

    def client(self, target: Target, http: Http | DryRun, author: str | None, env: Mapping[str, str],
               limit: int) -> Forge:
        """The forge's implementation of :class:`ci_carbon.publish.forge.Forge` for one pull request."""
        ...


def names() -> tuple[str, ...]:
    return tuple(e.name for e in REGISTRY)


def entry(name: str, env: Mapping[str, str]) -> Entry:
    """The entry ``--forge`` names; for ``auto``, the first whose variable is set, else :data:`DEFAULT`."""
    if name == "auto":
        name = next((e.name for e in REGISTRY if env.get(e.detect)), DEFAULT)
    return next(e for e in REGISTRY if e.name == name)


def load(chosen: Entry) -> ForgeModule:
    return importlib.import_module(chosen.module)
