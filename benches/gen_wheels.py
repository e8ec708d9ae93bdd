"""Tiny, valid, pure wheels and the requirement lists of the no-op workloads.

A wheel here is what PEP 427 asks for and nothing more: the module, METADATA, WHEEL and a RECORD
whose entries carry the urlsafe-base64 sha256 (no padding) and size of every other file. Zip
timestamps are fixed so a wheel is byte-identical every time it is generated (re-uploads to a
non-volatile devpi index then answer 200 instead of 409).
"""

import base64
import hashlib
import os
import zipfile

FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def canonical(i: int) -> str:
    return f"bench-proj-{i}"


def versions_of(i: int) -> list:
    """1, 2 or 3 versions per project: 500 projects give 1000 pins."""
    return [f"{v}.0" for v in range(1, 2 + i % 3)]


def spelled(i: int) -> str:
    """How project `i` is written in the requirements file: some names are not normalised
    (PEP 503 normalisation must map them back to `bench-proj-<i>`)."""
    if i % 7 == 3:
        return f"Bench_Proj.{i}"
    if i % 11 == 5:
        return f"BENCH-proj_{i}"
    return canonical(i)


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def make_wheel(name: str, version: str, out_dir: str, requires: tuple = ()) -> str:
    """Write `{dist}-{version}-py3-none-any.whl` for project `name`, with one
    `Requires-Dist` line per entry of `requires` (PEP 566); return its path."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = [
        (f"{dist}/__init__.py", f'__version__ = "{version}"\n'.encode()),
        (
            f"{info}/METADATA",
            (
                f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                f"Summary: wheelwright benchmark wheel\n"
                + "".join(f"Requires-Dist: {r}\n" for r in requires)
            ).encode(),
        ),
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: wheelwright-bench\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        ),
    ]
    record = "\n".join(_record_line(p, d) for p, d in files) + f"\n{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    path = os.path.join(out_dir, f"{dist}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in files:
            zi = zipfile.ZipInfo(arcname, FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, data)
    return path


def pins(n_pins: int) -> list:
    """The first `n_pins` (index, version) pairs, project by project."""
    out = []
    i = 0
    while len(out) < n_pins:
        for v in versions_of(i):
            if len(out) < n_pins:
                out.append((i, v))
        i += 1
    return out


def write_requirements(path: str, pairs: list) -> None:
    with open(path, "w") as f:
        f.write("# wheelwright benchmark: every pin is already on the target\n")
        for i, v in pairs:
            f.write(f"{spelled(i)}=={v}\n")


def fetch_name(i: int) -> str:
    """Projects that only the upstream index has (the fetch part of the cold fill)."""
    return f"bench-fetch-{i}"
