"""`python -m ci_carbon.publish`: the comment command on its own (tests use it; `ci-carbon comment` is the same)."""

from ci_carbon.publish.command import comment

comment(prog_name="ci-carbon comment")
