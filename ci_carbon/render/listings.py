"""Listings of the data tables for `ci-carbon hardware` and `ci-carbon regions`: users find names to write."""

from __future__ import annotations

from ci_carbon.core import tables
from ci_carbon.core.figures import region_figures
from ci_carbon.core.names import normalise
from ci_carbon.render.environment import environment


def _matches(query: str | None, *names: str) -> bool:
    return not query or any(normalise(query) in normalise(n) for n in names)


def hardware_listing(query: str | None, cpus: bool) -> str:
    if cpus:
        rows = [c for c in tables.cpus().values() if _matches(query, c.id, c.name, *c.aliases)]
    else:
        rows = [d for d in tables.devices().values() if _matches(query, d.id, d.name, *d.aliases)]  # type: ignore[misc]
    families = {f: d for f, (d, _) in tables.device_families().items()}
    return environment().get_template("listings/hardware.txt.j2").render(
        rows=rows, cpus=cpus, query=query, families=families)


def region_listing(provider: str | None) -> str:
    keys = sorted(k for k in tables.regions() if not provider or k[0] == provider.lower())
    rows = [(tables.regions()[k], region_figures(*k)) for k in keys]
    return environment().get_template("listings/regions.txt.j2").render(rows=rows, provider=provider)


def instance_listing(provider: str | None) -> str:
    rows = sorted((i for rs in tables.instances().values() for i in rs
                   if not provider or i.provider == provider.lower()),
                  key=lambda i: (i.provider, i.instance_type))
    return environment().get_template("listings/instances.txt.j2").render(rows=rows, provider=provider)
