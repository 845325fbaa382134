"""Pull-request review: what a change does to the footprint, and whether it stays within a budget.

Stages, in pipeline order, none reaching back: ``base`` finds where the pull request started (the merge-base,
through the `git` program) and what its manifest said there; ``delta`` compares two reports job by job; ``budget``
checks the compared report against thresholds; ``actions`` hands the result to GitHub Actions (outputs, job
summary, annotations).
"""
