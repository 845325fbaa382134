"""Rebuild the derived hardware rows of data/ from the rows they come from; `--check` only compares.

Two kinds of row are derived, so that a reviewer can re-run the derivation instead of trusting it:

* ``instances.csv`` ``memory_gb`` from ``memory_as_published`` and ``memory_unit``: AWS and Azure publish GiB
  (1 GiB = 1.073741824 GB), Google publishes GB.
* ``hosts.csv`` rows whose ``derived_from`` names an instance type: the typical host of a device that has no
  hand-written host row is the host of its largest cloud instance (most devices, then most vCPUs, then the
  provider and instance name in alphabetical order). The row keeps the instance's device count; the share per
  device is computed where the row is used.

Usage: python scripts/data/derive_hardware.py [--check]
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data"
GIB = 1.073741824  # bytes per GiB / bytes per GB
HOST_FIELDS = ["applies_to", "system", "devices_per_host", "cpu_id", "cpu_sockets", "vcpus", "vcpu_is_core",
               "memory_gb", "memory_as_published", "memory_unit", "derived_from", "source", "year", "accessed",
               "note"]


def gb(value: str, unit: str) -> str:
    """A published memory size in GB, as the tables write numbers (at most two decimals, no trailing zeros)."""
    factor = {"GB": 1.0, "GiB": GIB, "TiB": 1024 * GIB}[unit]
    return f"{float(value) * factor:.2f}".rstrip("0").rstrip(".")


def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def render(fields: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def derive_instances(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{**r, "memory_gb": gb(r["memory_as_published"], r["memory_unit"])} for r in rows]


def largest_instances(instances: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """Device id → its largest instance row (most devices, most vCPUs, then by name for a stable choice)."""
    best: dict[str, dict[str, str]] = {}
    for r in sorted(instances, key=lambda r: (-int(r["device_count"]), -int(r["vcpus"]), r["provider"],
                                               r["instance_type"])):
        best.setdefault(r["device_id"], r)
    return best


def host_from_instance(inst: dict[str, str]) -> dict[str, str]:
    return {
        "applies_to": inst["device_id"],
        "system": f"{inst['provider']} {inst['instance_type']} ({inst['device_count']} x {inst['device_id']})",
        "devices_per_host": inst["device_count"], "cpu_id": inst["cpu_id"] or "generic-cpu", "cpu_sockets": "",
        "vcpus": inst["vcpus"], "vcpu_is_core": inst["vcpu_is_core"], "memory_gb": inst["memory_gb"],
        "memory_as_published": inst["memory_as_published"], "memory_unit": inst["memory_unit"],
        "derived_from": f"{inst['provider']}:{inst['instance_type']}", "source": inst["source"],
        "year": inst["year"], "accessed": inst["accessed"],
        "note": "largest cloud instance of the device (instances.csv)"
        + ("" if inst["cpu_id"] else "; the provider names no CPU, counted as generic-cpu"),
    }


def derive_hosts(hosts: list[dict[str, str]], instances: list[dict[str, str]]) -> list[dict[str, str]]:
    hand = [r for r in hosts if not r["derived_from"]]
    covered = {r["applies_to"] for r in hand}
    derived = [host_from_instance(inst) for dev, inst in sorted(largest_instances(instances).items())
               if dev not in covered]
    return hand + derived


def main(argv: list[str]) -> int:
    inst_fields, instances = read("instances.csv")
    instances = derive_instances(instances)
    _, hosts = read("hosts.csv")
    wanted = {"instances.csv": render(inst_fields, instances),
              "hosts.csv": render(HOST_FIELDS, derive_hosts(hosts, instances))}
    stale = [name for name, text in wanted.items() if (DATA / name).read_text(encoding="utf-8") != text]
    if "--check" in argv:
        for name in stale:
            print(f"data/{name} differs from its derivation; run python scripts/data/derive_hardware.py")
        return 1 if stale else 0
    for name in stale:
        (DATA / name).write_text(wanted[name], encoding="utf-8")
        print(f"rewrote data/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
