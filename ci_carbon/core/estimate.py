"""The estimate: energy and emissions of a resolved job (Lacoste et al. 2019; docs/design.md "The estimate").

Pure arithmetic over a :class:`Job`; every number it multiplies was chosen, with its source, by
:mod:`ci_carbon.core.resolve`. The range multiplies the uncertain factors' bounds together (the product of
the lows, the product of the highs): conservative, and easy to check by hand.
"""

from __future__ import annotations

from ci_carbon.core.model import Estimate, Job


def it_energy_kwh(job: Job) -> tuple[float, float]:
    """(device, host) IT energy over all runs, in kWh, before data-centre overhead."""
    device = job.device_hours * job.device_power_w / 1000.0 * job.runs
    host = job.hours * (job.cpu_power_w + job.memory_power_w) / 1000.0 * job.runs
    return device, host


def market_kg(job: Job, energy_kwh: float) -> float:
    """GHG Protocol market-based emissions: the unmatched share of the energy at the residual factor (the matched
    share is carbon-free). With nothing matched and no residual mix it is the location-based figure exactly."""
    market = job.market
    return energy_kwh * (market.residual_g_per_kwh / 1000.0) * (1.0 - market.matched_share)


def estimate(job: Job) -> Estimate:
    device_it, host_it = it_energy_kwh(job)
    energy = (device_it + host_it) * job.pue
    low = (device_it * job.power_bounds.low + host_it * job.host_bounds.low) * job.pue * job.pue_bounds.low
    high = (device_it * job.power_bounds.high + host_it * job.host_bounds.high) * job.pue * job.pue_bounds.high
    intensity_kg = job.carbon_intensity / 1000.0
    emissions = energy * intensity_kg
    return Estimate(
        job=job,
        device_energy_kwh=device_it * job.pue,
        energy_kwh=energy,
        energy_kwh_low=low,
        energy_kwh_high=high,
        emissions_kg=emissions,
        emissions_kg_low=low * intensity_kg * job.intensity_bounds.low,
        emissions_kg_high=high * intensity_kg * job.intensity_bounds.high,
        emissions_kg_market=market_kg(job, energy),
        embodied_kg=job.embodied_kg_per_device_hour * job.device_hours * job.runs,
    )
