"""`ci-carbon hardware` and `ci-carbon regions`: the names a manifest may use, from the data tables."""

from __future__ import annotations

import click


@click.command()
@click.argument("query", required=False)
@click.option("--cpus", is_flag=True, help="List CPUs instead of accelerators.")
def hardware(query: str | None, cpus: bool) -> None:
    """List the devices ci-carbon knows (names to write as `hardware:`), optionally filtered by QUERY."""
    from ci_carbon.render.listings import hardware_listing

    click.echo(hardware_listing(query, cpus), nl=False)


@click.command()
@click.argument("provider", required=False)
@click.option("--instances", is_flag=True, help="List instance types instead of regions.")
def regions(provider: str | None, instances: bool) -> None:
    """List cloud regions (or instance types) with their grid intensity and PUE, optionally for one PROVIDER."""
    from ci_carbon.render.listings import instance_listing, region_listing

    click.echo(instance_listing(provider) if instances else region_listing(provider), nl=False)
