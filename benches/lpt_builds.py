"""Longest builds first: the wall time of one long build among short ones, with and without
the build times a previous run left in the cache.

    python3 benches/lpt_builds.py [--short 4] [--short-seconds 2] [--long-seconds 8] [--jobs 2]

Generates sdists with an in-tree PEP 517 back end (`backend-path`) whose `build_wheel`
sleeps for a set time and then writes a tiny pure wheel: `lpt-short-0 … lpt-short-N` and,
planned last, `lpt-long`. Each case fills a fresh directory target from a find-links
directory (`--no-index`), builds in the real sandbox, `--jobs 2`:

- cold: a fresh cache, no build times known: builds start in plan order, so the long build
  starts after the short ones have taken the slots;
- warm: a fresh cache holding only the `build-times/` records of the cold run: the long build
  starts first, the short ones share the other slot.

Prints each wall time and the ideal makespans (FIFO and longest-first) for comparison.
Stdlib only.
"""

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BACKEND = '''\
import base64, hashlib, os, time, zipfile

SECONDS = {seconds}
NAME, VERSION = "{name}", "1.0"
DIST = NAME.replace("-", "_")


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    time.sleep(SECONDS)
    filename = f"{{DIST}}-{{VERSION}}-py3-none-any.whl"
    info = f"{{DIST}}-{{VERSION}}.dist-info"
    files = {{
        f"{{DIST}}.py": b"",
        f"{{info}}/METADATA": f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n".encode(),
        f"{{info}}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: lpt\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as whl:
        for path, data in files.items():
            whl.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{{path}},sha256={{digest}},{{len(data)}}")
        record.append(f"{{info}}/RECORD,,")
        whl.writestr(zipfile.ZipInfo(f"{{info}}/RECORD", (1980, 1, 1, 0, 0, 0)), "\\n".join(record) + "\\n")
    return filename
'''

PYPROJECT = """\
[build-system]
requires = []
build-backend = "sleepy"
backend-path = ["."]
"""


def make_sdist(directory: str, name: str, seconds: float) -> None:
    dist = name.replace("-", "_")
    top = f"{dist}-1.0"
    members = {
        f"{top}/pyproject.toml": PYPROJECT,
        f"{top}/sleepy.py": BACKEND.format(seconds=seconds, name=name),
        f"{top}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
    }
    with tarfile.open(os.path.join(directory, f"{top}.tar.gz"), "w:gz") as tar:
        for path, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = 315532800
            tar.addfile(info, io.BytesIO(data))


def default_binary() -> str:
    for profile in ("release", "debug"):
        path = os.path.join(ROOT, "target", profile, "wheelwright")
        if os.path.isfile(path):
            return path
    sys.exit("no wheelwright binary: run `cargo build --release` first")


def fill(binary: str, work: str, requirements: str, links: str, cache: str, jobs: int) -> float:
    target = tempfile.mkdtemp(dir=work, prefix="target-")
    home = tempfile.mkdtemp(dir=work, prefix="home-")
    env = dict(os.environ, HOME=home, PIP_CONFIG_FILE="/dev/null")
    cmd = [
        binary, "fill", requirements, "--no-index", "--find-links", links,
        "--target", target, "--cache-dir", cache, "--jobs", str(jobs), "-q",
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {done.returncode}\n{done.stderr[-3000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=4)
    parser.add_argument("--short-seconds", type=float, default=2.0)
    parser.add_argument("--long-seconds", type=float, default=8.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--wheelwright", default=None)
    args = parser.parse_args()
    binary = args.wheelwright or default_binary()
    work = tempfile.mkdtemp(prefix="ww-bench-lpt-")
    try:
        links = os.path.join(work, "sdists")
        os.makedirs(links)
        names = [f"lpt-short-{i}" for i in range(args.short)] + ["lpt-long"]
        for name in names:
            seconds = args.long_seconds if name == "lpt-long" else args.short_seconds
            make_sdist(links, name, seconds)
        requirements = os.path.join(work, "requirements.txt")
        with open(requirements, "w") as f:
            f.writelines(f"{name}==1.0\n" for name in names)

        cold_cache = os.path.join(work, "cold-cache")
        cold = fill(binary, work, requirements, links, cold_cache, args.jobs)
        warm_cache = os.path.join(work, "warm-cache")
        os.makedirs(warm_cache)
        shutil.copytree(
            os.path.join(cold_cache, "build-times"), os.path.join(warm_cache, "build-times")
        )
        warm = fill(binary, work, requirements, links, warm_cache, args.jobs)

        short, long_, jobs = args.short_seconds, args.long_seconds, args.jobs
        rounds = -(-args.short // jobs)
        fifo = rounds * short + long_ if args.short % jobs == 0 else None
        lpt = max(long_, -(-args.short * short // max(jobs - 1, 1)))
        print(f"wheelwright {binary}; --jobs {jobs}")
        print(f"{args.short} builds of {short:g} s planned before one of {long_:g} s")
        print(f"  cold (no build times): {cold:7.2f} s   (ideal FIFO {fifo or '?'} s + overhead)")
        print(f"  warm (build times):    {warm:7.2f} s   (ideal longest-first {lpt:g} s + overhead)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
