#!/usr/bin/env python3
"""How wheelwright's cost grows with the size of the run: time, CPU and peak RSS per pin.

    cargo build --release
    python3 benches/scale.py                              # every case (about 15 minutes)
    python3 benches/scale.py --cases dir --sizes 1000,10000
    python3 benches/scale.py --cases deps --closures 500,2000

A benchmark, not a test; everything stays on loopback. Generated tiny pure wheels
(`benches/gen_wheels.py`), one project per pin, are cached under `.cache/bench-scale/`.

Cases:
* `dir`: first fill and no-op of N pins from a find-links directory into a directory target
  (fresh target and cache for the first fill; the no-op reuses both).
* `devpi`: no-op of N pins present on a devpi index (uploaded once, by the script), each run
  with a fresh `--cache-dir`, so the serial snapshot is off and presence is really asked.
* `pypiserver`: the same no-op against pypiserver (no serial: always asked).
* `deps`: `plan --deps` of a generated closure of N projects (a binary tree: the root pulls
  all, two versions each) from a find-links directory, cold cache.

The goal: the cost per pin at the largest size within 1.5x of that at the smallest, for every
case. `ww RSS` is wheelwright's own peak (VmHWM), `per pin` is wall time / pins.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import gen_wheels  # noqa: E402
from devpi_server import DevpiServer, Session  # noqa: E402
from measure import run  # noqa: E402

VENV = os.path.join(ROOT, ".venv-test")
CACHE = os.path.join(ROOT, ".cache", "bench-scale")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def generated(name: str, make) -> str:
    """`.cache/bench-scale/NAME`, filled by `make(path)` once (a stamp marks it complete)."""
    path = os.path.join(CACHE, name)
    stamp = os.path.join(path, ".complete")
    if not os.path.exists(stamp):
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        log(f"generating {name}")
        make(path)
        open(stamp, "w").close()
    return path


def wheelhouse(n: int) -> str:
    """A directory of `n` one-version projects `scale-proj-I` 1.0."""

    def make(path):
        for i in range(n):
            gen_wheels.make_wheel(f"scale-proj-{i}", "1.0", path)

    return generated(f"wheels-{n}", make)


def closure(n: int) -> str:
    """A binary tree of `n` projects, two versions each: `bench-dep-0` pulls all."""

    def make(path):
        for i in range(n):
            children = [c for c in (2 * i + 1, 2 * i + 2) if c < n]
            for version in ("1.0", "2.0"):
                requires = tuple(f"bench-dep-{c}>=1.0" for c in children)
                gen_wheels.make_wheel(f"bench-dep-{i}", version, path, requires)

    return generated(f"closure-{n}", make)


def pins(work: str, n: int) -> str:
    path = os.path.join(work, f"pins-{n}.txt")
    with open(path, "w") as f:
        f.writelines(f"scale-proj-{i}==1.0\n" for i in range(n))
    return path


def env(home: str) -> dict:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "LANG": "C.UTF-8",
        "NO_PROXY": "127.0.0.1,localhost",
        "PIP_CONFIG_FILE": os.devnull,
    }


class Table:
    def __init__(self):
        self.rows = []

    def add(self, case, n, r):
        self.rows.append((case, n, r))
        log(f"{case} {n}: {r.wall:.2f}s wall, {r.cpu:.2f}s cpu, {r.own_rss_mib:.0f} MiB, exit {r.code}")
        if r.code != 0:
            log(f"  non-zero exit: see {r.out_path}")

    def print(self):
        print()
        print("wheelwright at scale (wall clock, one run each; per pin = wall / pins)")
        print(f"  {'case':<22} {'pins':>7} {'wall':>9} {'cpu':>9} {'ww RSS':>9} {'per pin':>10} {'vs smallest':>12} {'exit':>5}")
        first = {}
        for case, n, r in self.rows:
            per_pin = r.wall / n
            base = first.setdefault(case, per_pin)
            print(
                f"  {case:<22} {n:>7} {r.wall:>8.2f}s {r.cpu:>8.2f}s {r.own_rss_mib:>7.0f}Mi "
                f"{per_pin * 1000:>8.3f}ms {per_pin / base:>11.2f}x {r.code:>5}"
            )


def dir_case(ww, work, sizes, table):
    for n in sizes:
        wheels = wheelhouse(n)
        reqs = pins(work, n)
        target = os.path.join(work, f"target-{n}")
        cache = os.path.join(work, f"cache-dir-{n}")
        home = tempfile.mkdtemp(dir=work)
        cmd = [ww, "fill", reqs, "--find-links", wheels, "--target", target, "--cache-dir", cache, "-q"]
        table.add("dir first fill", n, run(cmd, env(home), os.path.join(work, f"dir-fill-{n}.log")))
        table.add("dir no-op", n, run(cmd, env(home), os.path.join(work, f"dir-noop-{n}.log")))
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)


def remote_noop(ww, work, sizes, table, case, target_for):
    for n in sizes:
        wheels = wheelhouse(n)
        reqs = pins(work, n)
        target, extra = target_for(n, wheels)
        home = tempfile.mkdtemp(dir=work)
        cache = os.path.join(work, f"cache-{case}-{n}")
        cmd = [ww, "fill", reqs, target, "--find-links", wheels, "--cache-dir", cache, "-q", *extra]
        table.add(f"{case} no-op", n, run(cmd, env(home), os.path.join(work, f"{case}-{n}.log")))
        shutil.rmtree(cache, ignore_errors=True)


def devpi_case(ww, work, sizes, table):
    server = DevpiServer(VENV, os.path.join(work, "devpi"))
    server.start()
    try:
        user = Session(server.url, "scale", "scalepw")

        def target_for(n, wheels):
            index = f"noop-{n}"
            user.create_index(index)
            log(f"uploading {n} wheels to devpi")
            user.upload_many(
                index,
                [(os.path.join(wheels, f"scale_proj_{i}-1.0-py3-none-any.whl"), f"scale-proj-{i}", "1.0") for i in range(n)],
            )
            return user.index_url(index), []

        remote_noop(ww, work, sizes, table, "devpi", target_for)
    finally:
        server.stop()


def pypiserver_case(ww, work, sizes, table):
    from devpi_server import free_port

    servers = []

    def target_for(n, wheels):
        port = free_port()
        proc = subprocess.Popen(
            [os.path.join(VENV, "bin/pypi-server"), "run", "-p", str(port), "-i", "127.0.0.1",
             "--disable-fallback", "-P", ".", "-a", ".", wheels],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        servers.append(proc)
        url = f"http://127.0.0.1:{port}/simple/"
        import urllib.request

        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                time.sleep(0.2)
        return url, []

    try:
        remote_noop(ww, work, sizes, table, "pypiserver", target_for)
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait()


def deps_case(ww, work, sizes, table):
    for n in sizes:
        upstream = closure(n)
        reqs = os.path.join(work, f"root-{n}.txt")
        with open(reqs, "w") as f:
            f.write("bench-dep-0\n")
        home = tempfile.mkdtemp(dir=work)
        cache = os.path.join(work, f"cache-deps-{n}")
        cmd = [ww, "plan", reqs, "--deps", "--find-links", upstream, "--target",
               os.path.join(work, f"deps-target-{n}"), "--cache-dir", cache]
        table.add("plan --deps", n, run(cmd, env(home), os.path.join(work, f"deps-{n}.log")))
        shutil.rmtree(cache, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="dir,devpi,pypiserver,deps")
    ap.add_argument("--sizes", default="1000,10000,50000", help="pins of the dir case")
    ap.add_argument("--remote-sizes", default="1000,10000", help="pins of the devpi and pypiserver cases")
    ap.add_argument("--closures", default="500,2000", help="projects of the deps case")
    ap.add_argument("--wheelwright", default=os.path.join(ROOT, "target/release/wheelwright"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    remote = [int(x) for x in args.remote_sizes.split(",")]
    closures = [int(x) for x in args.closures.split(",")]
    os.makedirs(CACHE, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=CACHE)
    table = Table()
    cases = args.cases.split(",")
    try:
        if "dir" in cases:
            dir_case(args.wheelwright, work, sizes, table)
        if "devpi" in cases:
            devpi_case(args.wheelwright, work, remote, table)
        if "pypiserver" in cases:
            pypiserver_case(args.wheelwright, work, remote, table)
        if "deps" in cases:
            deps_case(args.wheelwright, work, closures, table)
    finally:
        table.print()
        if args.keep:
            print(f"  work directory: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
