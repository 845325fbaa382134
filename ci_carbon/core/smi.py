"""Devices as ``nvidia-smi``/``rocm-smi`` count them, against devices as the tables count them.

One row of data/devices.csv is one device as the tools list it, except MI250 and MI250X: one row is the OAM
module (560 W), and ``rocm-smi`` lists each of its two GCDs as a device (``smi_devices`` = 2). A count a tool
made (MLflow system metrics, CodeCarbon's ``gpu_count``) of such a device is a count of GCDs, and *n* GCDs are
*n* / 2 modules; counting them as modules would double the energy at TDP and the embodied share.
"""

from __future__ import annotations

from typing import NamedTuple

from ci_carbon.core import tables
from ci_carbon.core.names import normalise


class Modules(NamedTuple):
    """What a tool's device count means in the tables' rows."""

    count: int  # type: ignore[assignment]  # a field named like tuple.count
    per_module: int  # tool devices per table row (1 for every device but MI250/MI250X)


def smi_devices(hardware: str | None) -> int:
    """How many devices the tools list for one row of the device a name means (an ambiguous family: its
    assumed variant, as the estimate uses); 1 for a name the tables do not know."""
    if not hardware:
        return 1
    key = normalise(hardware)
    dev_id = tables.device_index().get(key) or tables.device_families().get(key, ("", ""))[0]
    dev = tables.devices().get(dev_id)
    return dev.smi_devices if dev is not None else 1


def modules(hardware: str | None, listed: int) -> Modules:
    """The table rows (modules) behind ``listed`` tool devices: ceil(listed / smi_devices), at least 1."""
    per = max(1, smi_devices(hardware))
    return Modules(max(1, -(-listed // per)), per)
