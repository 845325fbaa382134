"""`ci-carbon validate FILE`: every problem of a manifest with its line, or a one-line summary."""

from __future__ import annotations

import click

from ci_carbon.cli.report import bulk_allocation
from ci_carbon.errors import one_line


@click.command()
@click.argument("file", metavar="FILE")
def validate(file: str) -> None:
    """Check a manifest (FILE, or - for standard input): print every problem with its line, or a one-line summary."""
    from ci_carbon.assemble import resolve_chunk
    from ci_carbon.sources.manifest import ManifestSource

    source = ManifestSource(file)
    with bulk_allocation():
        jobs = [job for chunk in source.chunks() for job in resolve_chunk(chunk, strict=True)[0]]
    click.echo(f"{one_line(source.where)}: ok, {len(jobs)} {'job' if len(jobs) == 1 else 'jobs'}")
