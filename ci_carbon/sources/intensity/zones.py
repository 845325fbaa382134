"""Where a job ran, as a grid-intensity API's zone: Electricity Maps zone keys (https://docs.electricitymaps.com,
``GET /v3/zones`` lists them), which are ISO 3166 alpha-2 country codes, ISO 3166-2 subdivisions for the countries
it splits by province or state (``CA-QC``, ``AU-NSW``), and balancing authorities in the United States.

A cloud region is placed by its grid row in data/regions.csv (its state or country), a manifest job by its
``country``/``state``. US states map to the balancing authority that serves the provider's campus there (below);
a country Electricity Maps splits into zones of its own (Sweden, Norway, Italy, Japan, …) has no single zone, and
neither does a US state not listed: the job then keeps the yearly figure, with a notice. ``intensity.zone`` in
ci-carbon.yaml names the zone for every job (one cluster, one grid).
"""

from __future__ import annotations

from ci_carbon.core import tables
from ci_carbon.core.model import Job

# US state (the grid row's subdivision) → Electricity Maps balancing-authority zone serving the data-centre campuses
# of data/regions.csv there (EIA-930 balancing authorities, as Electricity Maps names them).
US_STATES = {
    "US-CA": "US-CAL-CISO", "US-TX": "US-TEX-ERCO", "US-VA": "US-MIDA-PJM", "US-OH": "US-MIDA-PJM",
    "US-IA": "US-MIDW-MISO", "US-SC": "US-CAR-SC", "US-GA": "US-SE-SOCO", "US-NV": "US-NW-NEVP",
    "US-UT": "US-NW-PACE", "US-WY": "US-NW-PACE", "US-AZ": "US-SW-AZPS", "US-OK": "US-CENT-SWPP",
    "US-OR": "US-NW-BPAT",
}
# countries Electricity Maps divides into several zones, with no zone for the whole country
SPLIT = frozenset({"US", "SE", "NO", "DK", "IT", "JP", "AU", "CA", "IN", "BR", "RU", "NZ", "MX", "CN", "AR", "CL",
                   "MY", "ES"})


def grid_key(job: Job) -> str | None:
    """The job's grid as data/ names it: a cloud region's subdivision or country, else the job's country-state."""
    if job.provider and job.region:
        row = tables.regions().get((job.provider, job.region))
        if row is not None:
            return row.subdivision or row.country or None
    country = job.country
    if not country:
        return None
    state = job.spec.state
    return f"{country}-{state.upper()}" if state and "-" not in state else (state.upper() if state else country)


def zone_of(job: Job, configured: str | None = None) -> str | None:
    """The Electricity Maps zone of a job's grid; None where there is no single one (see the module docstring)."""
    if configured:
        return configured
    key = grid_key(job)
    if key is None or key == "WORLD":
        return None
    if key.startswith("US-"):
        return US_STATES.get(key)
    return None if key in SPLIT else key
