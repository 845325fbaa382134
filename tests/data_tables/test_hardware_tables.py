"""Integrity of the hardware tables the estimate and the advice read: device classes, families, hosts,
availability, measured training efficiency, and the rows derived from other rows."""

from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path

import pytest

from ci_carbon.core import tables
from ci_carbon.core.names import normalise

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
DATE = re.compile(r"20\d\d-[01]\d-[0-3]\d")
YEAR = re.compile(r"(19|20)\d\d")
SYSTEM_CLASSES = {"accelerator-cluster", "tpu-pod", "neuron-cluster", "pcie-server", "workstation"}
INTERCONNECTS = {"nvlink", "nvlink-c2c", "nvlink-bridge", "infinity-fabric", "gaudi-roce", "tpu-ici", "neuronlink",
                 "pcie"}


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def derive_module():
    spec = importlib.util.spec_from_file_location("derive_hardware", ROOT / "scripts" / "data" / "derive_hardware.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- devices ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", tables.devices().values(), ids=lambda d: d.id)
def test_device_classes_are_known_and_consistent(device):
    assert device.system_class in SYSTEM_CLASSES
    assert device.interconnect in INTERCONNECTS
    assert DATE.fullmatch(device.accessed), device.accessed
    if device.segment != "datacenter":  # a workstation or consumer card is never training-class
        assert device.system_class == "workstation" and not device.training_class
    if device.system_class == "accelerator-cluster":
        assert device.form_factor in {"sxm", "oam", "superchip"}
    if device.system_class == "pcie-server":
        assert device.form_factor == "pcie"
    assert device.kind != "tpu" or device.system_class == "tpu-pod"


def test_training_class_split_is_the_vendors():
    devs = tables.devices()
    assert all(devs[d].training_class for d in ("a100-sxm4-40gb", "h100-sxm5-80gb", "b200", "mi300x", "tpu-v5p",
                                                "tpu-v5e", "trainium2", "gaudi3", "v100-pcie-16gb", "h100-pcie-80gb"))
    assert not any(devs[d].training_class for d in ("t4", "l4", "a10g", "a10", "inferentia2", "tpu-v4i",
                                                    "h100-nvl-94gb", "rtx-4090", "rtx-a6000", "titan-rtx"))


@pytest.mark.parametrize("device", [d for d in tables.devices().values() if d.idle_w is not None], ids=lambda d: d.id)
def test_idle_draw_is_sourced_and_below_tdp(device):
    assert 0 < device.idle_w < 0.5 * device.tdp_w
    assert device.idle_source.strip() and 2000 < device.idle_year <= 2030


def test_idle_draw_is_present_where_a_source_gives_it():
    devs = tables.devices()
    assert {d: devs[d].idle_w for d in ("t4", "a10g", "v100-sxm2-16gb", "a100-sxm4-80gb", "tpu-v4", "k80")} == \
        {"t4": 8, "a10g": 18, "v100-sxm2-16gb": 35, "a100-sxm4-80gb": 46, "tpu-v4": 90, "k80": 17.5}
    assert devs["h100-sxm5-80gb"].idle_w is None  # no published minimum found: left empty, said in data/README.md


def test_spec_figures_cite_the_vendor_page_of_the_chip():
    devs = tables.devices()
    for dev_id in ("tpu-v4", "tpu-v5e", "tpu-v5p", "tpu-v6e"):
        assert devs[dev_id].spec_source.startswith("https://cloud.google.com/tpu/docs/")
    for dev_id in ("trainium1", "trainium2", "inferentia2"):
        assert devs[dev_id].spec_source.startswith("https://awsdocs-neuron.readthedocs-hosted.com/")
    for dev in devs.values():  # a spec source is dated no earlier than the chip it describes
        if dev.spec_source:
            assert dev.spec_year >= int(rows_by_id()[dev.id]["release_year"]), dev.id


def rows_by_id() -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in rows("devices.csv")}


def test_sensor_sampling_and_gcd_counts():
    devs = tables.devices()
    partial = {d.id for d in devs.values() if d.smi_power_sampled == 0.25}
    assert partial == {d for d in devs if d.startswith(("a100-", "h100-"))}
    assert all(d.smi_power_sampled in (None, 0.25, 1.0) for d in devs.values())
    assert {d.id for d in devs.values() if d.smi_devices != 1} == {"mi250", "mi250x"}
    assert devs["mi250x"].smi_devices == 2


# --- families -----------------------------------------------------------------------------------------------


def test_family_candidates_exist_and_start_with_the_assumed_variant():
    families = tables.device_families()
    candidates = tables.device_family_candidates()
    assert set(families) == set(candidates)
    for key, (assumed, _) in families.items():
        assert candidates[key][0] == assumed
        assert len(set(candidates[key])) == len(candidates[key])
        assert all(c in tables.devices() for c in candidates[key]), key


def test_ambiguous_families_cover_every_variant():
    candidates = tables.device_family_candidates()
    assert set(candidates[normalise("A100")]) == {"a100-sxm4-40gb", "a100-sxm4-80gb", "a100-pcie-40gb",
                                                   "a100-pcie-80gb"}
    assert set(candidates[normalise("H100")]) == {"h100-sxm5-80gb", "h100-pcie-80gb", "h100-nvl-94gb"}
    assert set(candidates[normalise("V100 16GB")]) == {"v100-sxm2-16gb", "v100-pcie-16gb"}
    tdps = [tables.devices()[d].tdp_w for d in candidates[normalise("H100")]]
    assert (min(tdps), max(tdps)) == (350, 700)  # H100 PCIe draws half of SXM: the family's range must show it


def test_rocm_smi_names_of_mi250_modules_resolve():
    index, candidates = tables.device_index(), tables.device_family_candidates()
    assert set(candidates[normalise("Aldebaran/MI200 [Instinct MI250X/MI250]")]) == {"mi250x", "mi250"}
    assert set(candidates[normalise("AMD Instinct MI250X / MI250")]) == {"mi250x", "mi250"}
    assert index[normalise("Aldebaran/MI200 [Instinct MI250X]")] == "mi250x"
    assert index[normalise("AMD INSTINCT MI250X (MCM) OAM AC MBA MSFT")] == "mi250x"


# --- CPUs and instances -------------------------------------------------------------------------------------


def test_instance_memory_is_gb_converted_from_what_the_provider_publishes():
    for inst in (i for rs in tables.instances().values() for i in rs):
        assert inst.memory_unit == ("GB" if inst.provider == "gcp" else "GiB"), inst
        factor = 1.0 if inst.memory_unit == "GB" else 1.073741824
        assert inst.memory_gb == pytest.approx(inst.memory_as_published * factor, abs=0.005), inst
        assert DATE.fullmatch(inst.accessed)
    p4d = tables.instances()[normalise("p4d.24xlarge")][0]
    assert p4d.memory_gb == 1236.95  # 1,152 GiB x 1.073741824 = 1,236.950581 GB


def test_accelerator_hosts_name_a_cpu_with_its_source():
    for inst in (i for rs in tables.instances().values() for i in rs):
        if inst.cpu_id:
            assert inst.cpu_id in tables.cpus() and inst.cpu_source.strip(), inst
        if inst.vcpu_is_core:
            cpu = tables.cpus()[inst.cpu_id]
            assert inst.vcpus <= 2 * cpu.cores, inst  # at most two sockets' worth of cores
    gcp = {i.instance_type: i.cpu_id for rs in tables.instances().values() for i in rs if i.provider == "gcp"}
    assert gcp["a3-highgpu-8g"] == "xeon-platinum-8481c" and gcp["a2-highgpu-8g"] == "xeon-cascade-lake-gcp"
    assert gcp["a3-ultragpu-8g"] == "xeon-platinum-8581c" and gcp["g2-standard-96"] == "xeon-cascade-lake-gcp"


def test_full_size_instances_use_whole_sockets():
    """The vCPUs of the largest size of a family fit the sockets of the CPU named for it (2 sockets at most)."""
    largest: dict[str, tables.Instance] = {}
    for inst in (i for rs in tables.instances().values() for i in rs):
        if inst.cpu_id and inst.cpu_id != "generic-cpu":
            family = inst.provider + ":" + re.split(r"[.-]", inst.instance_type)[0]
            if family not in largest or inst.vcpus > largest[family].vcpus:
                largest[family] = inst
    for family, inst in largest.items():
        cpu = tables.cpus()[inst.cpu_id]
        per_socket = cpu.cores if inst.vcpu_is_core else cpu.threads
        assert inst.vcpus <= 2 * per_socket, family


# --- hosts --------------------------------------------------------------------------------------------------


def test_hosts_reference_devices_classes_and_cpus():
    hosts = tables.hosts()
    for host in hosts.values():
        assert host.applies_to in tables.devices() or host.applies_to in SYSTEM_CLASSES, host.applies_to
        assert not host.cpu_id or host.cpu_id in tables.cpus(), host
        assert 1 <= host.devices_per_host <= 16 and host.vcpus >= 0 and host.memory_gb >= 0
        assert host.source.strip() and 2000 < host.year <= 2030 and DATE.fullmatch(host.accessed)
        if host.cpu_sockets and host.cpu_id and not host.vcpu_is_core:
            assert host.vcpus <= host.cpu_sockets * tables.cpus()[host.cpu_id].threads, host.applies_to
    assert {"accelerator-cluster", "pcie-server", "tpu-pod", "neuron-cluster", "workstation"} <= set(hosts)


def test_every_device_has_a_typical_host():
    missing = [d for d in tables.devices() if tables.typical_host(d) is None]
    assert missing == []
    assert tables.typical_host("a100-sxm4-40gb").cpu_id == "epyc-7742"  # DGX A100: 2 x EPYC 7742
    assert tables.typical_host("h100-sxm5-80gb").memory_gb == pytest.approx(2199.02)  # 2 TiB
    assert tables.typical_host("l40").applies_to == "pcie-server"
    assert tables.typical_host("gh200-96gb").vcpus == 0  # the Grace CPU is inside the module's TDP


def test_derived_rows_match_their_derivation():
    module = derive_module()
    fields, instances = module.read("instances.csv")
    assert module.render(fields, module.derive_instances(instances)) == (DATA / "instances.csv").read_text()
    _, hosts = module.read("hosts.csv")
    assert module.render(module.HOST_FIELDS, module.derive_hosts(hosts, instances)) == (
        DATA / "hosts.csv").read_text()


# --- availability -------------------------------------------------------------------------------------------


def test_availability_rows_name_existing_regions_devices_and_instances():
    regions, devices = tables.regions(), tables.devices()
    for row in tables.availability():
        assert (row.provider, row.region) in regions, row
        assert row.device_id in devices, row
        if row.instance_type:
            matches = [i for i in tables.instances().get(normalise(row.instance_type), [])
                       if i.provider == row.provider]
            assert [i.device_id for i in matches] == [row.device_id], row
        assert row.zones and row.source.strip() and YEAR.fullmatch(str(row.year)) and DATE.fullmatch(row.accessed)
        if row.provider == "gcp":
            assert all(z.startswith(row.region + "-") for z in row.zones), row
    keys = [(r.provider, r.region, r.device_id, r.instance_type) for r in tables.availability()]
    assert len(keys) == len(set(keys))


def test_availability_keeps_tpu_v4_to_its_only_region():
    assert tables.regions_offering("gcp", "tpu-v4") == {"us-central2"}
    assert "us-east-1" in tables.regions_offering("aws", instance_type="p4d.24xlarge")
    assert "eu-west-3" not in tables.regions_offering("aws", instance_type="p4d.24xlarge")


# --- measured training efficiency ---------------------------------------------------------------------------


def test_training_efficiency_rows_are_consistent():
    for row in tables.training_efficiency():
        assert row.device_id in tables.devices() and tables.devices()[row.device_id].training_class
        assert row.energy_per_accelerator_j == pytest.approx(row.energy_j / row.accelerators, abs=0.5)
        assert row.runs >= 5 and row.time_to_train_min > 0 and row.source.startswith("https://github.com/mlcommons/")
        assert DATE.fullmatch(row.accessed)
    pairs = {(r.benchmark, r.device_id) for r in tables.training_efficiency()}
    assert {("llama2_70b_lora", "h100-sxm5-80gb"), ("llama2_70b_lora", "b200")} <= pairs


# --- constants ----------------------------------------------------------------------------------------------


def test_measured_power_bands_cite_current_evidence():
    consts = tables.constants()
    full = consts["power_relative_uncertainty_measured"]
    partial = consts["power_relative_uncertainty_measured_partial_sampling"]
    assert (full.value, partial.value) == (0.05, 0.1)
    assert "arXiv:2312.02741" in full.source and "arXiv:2312.02741" in partial.source
    assert consts["grid_intensity_uncertainty_per_year"].value == 0.084
    assert "region-carbon-info" in consts["grid_intensity_uncertainty_per_year"].source
    assert all(DATE.fullmatch(c.accessed) for c in consts.values())
