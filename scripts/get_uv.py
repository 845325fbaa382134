"""Fetch the pinned uv for the Action's install, from the package index, checked against pinned SHA-256 digests.

Why not `pip install uv==VERSION`: on a cold runner pip spends seconds starting, resolving and unpacking a 17 MB
wheel (5.8-9.1 s measured on the 2-core development machine, where this script takes 0.9-1.0 s in the same runs:
benchmarks/bench_action.py).
uv is published on PyPI as one wheel per platform holding a single binary, so this
downloads the wheel for this platform from PyPI's file host (or finds it in the file list of the mirror in
$UV_INDEX_URL / $PIP_INDEX_URL), refuses it unless its digest is the one pinned below, and extracts the binary.
The official standalone installer fetches from GitHub releases instead, which the development machine cannot
reach, so it was not measured.

Usage: python get_uv.py DIR  → prints the path of the uv binary in DIR; exit 1 (one line) when this platform has no
pinned wheel or the index cannot be read, and the Action falls back to pip.
Standard library only: it runs on the runner's Python before anything is installed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import sys
import urllib.request
import zipfile

VERSION = "0.13.9"
# (system, machine) → the wheel for it (its path on PyPI's file host) and its SHA-256, as PyPI lists them for uv
# 0.13.9 (read 2026-12-02). PyPI's file URLs never change; the digest is checked all the same.
WHEELS = {  # (system, machine): (folder on the file host, platform tag, SHA-256)
    ("Linux", "x86_64"): ("3d/aa/26d64642d808de4a652579ef950d7cd2d37f080a8babf9c67c6b75fc4c3f",
        "manylinux_2_17_x86_64.manylinux2014_x86_64",
        "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19"),
    ("Linux", "aarch64"): ("57/15/94b6cd62ac3ff6550288328e8035288875197cbc183f51554b266a69877b",
        "manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64",
        "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe"),
    ("Darwin", "x86_64"): ("1e/db/08e9ef4879bd667e6d7b4705e594e5bd3e4585f10fc63cb16b9fa2fac63e",
        "macosx_10_12_x86_64",
        "c16ed11e013557536b3e60065f1b912f6407bd6518e041b961e23ef9e6b4fbf5"),
    ("Darwin", "arm64"): ("f3/a7/a8d7b074798c7fb3b26b37584b8fe2e29df2ccdc24ce7902caab2a53edbf",
        "macosx_11_0_arm64",
        "66c512266d633bef48384a1f53003f41f2a8e7b36fe6e7fbfd3e0fd52d96fa63"),
    ("Windows", "AMD64"): ("dd/ef/ceeabf3631117f7354787d9fb1ffe943899e59ed4b887a696ed547e47e76",
        "win_amd64",
        "6a44b2ed8111d2f60d2b92627c5dccda3f7ed7570b18ce115e569cd68c28246b"),
    ("Windows", "ARM64"): ("da/d1/d97a5db1f27e077e4d6329223f6b3f719c02c97e4092043f13e628558d05",
        "win_arm64",
        "eeb92051c2123b9730c46b04cc843cfa4bc7d7b0aec56df431a2215ef4cb0273"),
}
FILES = "https://files.pythonhosted.org/packages/"  # PyPI's file host
TIMEOUT = 30  # seconds per request


class Unavailable(Exception):
    """No pinned uv can be had here: the Action installs with pip instead."""


def _file_url(path: str) -> str:
    """Where to download the wheel: PyPI's file host, or the file list of the mirror in $UV_INDEX_URL /
    $PIP_INDEX_URL (PEP 691 JSON; a 2.6 MB list for uv, so PyPI's own is not read)."""
    index = os.environ.get("UV_INDEX_URL") or os.environ.get("PIP_INDEX_URL")
    if not index:
        return FILES + path
    index = index if index.endswith("/") else index + "/"
    filename = path.rsplit("/", 1)[-1]
    request = urllib.request.Request(index + "uv/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            files = json.load(answer).get("files", [])
    except (OSError, ValueError) as err:
        raise Unavailable(f"cannot read the package index's list of uv files: {err}") from None
    for entry in files:
        if entry.get("filename") == filename:
            return urllib.request.urljoin(index + "uv/", entry["url"])
    raise Unavailable(f"the package index does not list {filename}")


def fetch(target: str) -> str:
    """The path of the pinned uv binary under ``target``, downloading it when it is not there yet."""
    key = (platform.system(), platform.machine())
    if key not in WHEELS:
        raise Unavailable(f"no pinned uv wheel for {key[0]} {key[1]}")
    folder, tag, digest = WHEELS[key]
    filename = f"uv-{VERSION}-py3-none-{tag}.whl"
    wheel_path = f"{folder}/{filename}"
    name = "uv.exe" if key[0] == "Windows" else "uv"
    path = os.path.join(target, name)
    if os.path.isfile(path):
        return path
    try:
        with urllib.request.urlopen(_file_url(wheel_path), timeout=TIMEOUT) as answer:
            data = answer.read()
    except OSError as err:
        raise Unavailable(f"cannot download {filename}: {err}") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise Unavailable(f"{filename} does not have the pinned SHA-256 {digest}: refused")
    os.makedirs(target, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        binary = wheel.read(f"uv-{VERSION}.data/scripts/{name}")
    partial = path + ".part"
    with open(partial, "wb") as handle:
        handle.write(binary)
    os.chmod(partial, 0o755)
    os.replace(partial, path)
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: get_uv.py DIR", file=sys.stderr)
        return 2
    try:
        print(fetch(argv[0]))
    except Unavailable as err:
        print(f"ci-carbon: uv {VERSION}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
