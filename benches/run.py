#!/usr/bin/env python3
"""wheelwright vs devpi-builder, side by side, against a local devpi-server.

    python3 benches/run.py [--quick] [--repeat N] [--json FILE] [--keep]

See benches/README.md for what each case measures. Nothing here reaches the internet while
timing: both tools get a dead proxy (127.0.0.1:9) for everything but loopback, an empty pip
config, and the local devpi `upstream` index as their only index. The one-time set-up of the
devpi-builder venv (`pip install devpi-builder`) is the only step that uses a public registry.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import build_floor
import gen_wheels as gw
import measure
from devpi_server import DevpiServer, Session, request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures/dist")
BACKEND_WHEELS = os.path.join(ROOT, ".cache/upstream-wheels")
SERVER_VENV = os.path.join(ROOT, ".venv-test")
BENCH_VENV = os.path.join(ROOT, ".cache/bench-venv")
USER, PASSWORD = "bench", "bench-pw"
N_FETCH = 10
COLD_FIXTURES = [("ww-alpha", "2.0"), ("ww_Bravo", "1.0.0")]
COLD_BUILDS = ["ww-charlie", "ww-golf", "ww-flit", "ww-hatch", "ww-legacy", "ww-hotel"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_bench_venv() -> str:
    """devpi-builder (latest) and a current pip in their own venv; created once."""
    exe = os.path.join(BENCH_VENV, "bin/devpi-builder")
    if not os.path.exists(exe):
        log(f"creating {BENCH_VENV} with devpi-builder (one-time, uses the default package index)")
        subprocess.run([sys.executable, "-m", "venv", BENCH_VENV], check=True)
        pip = os.path.join(BENCH_VENV, "bin/pip")
        subprocess.run([pip, "install", "-q", "-U", "pip", "devpi-builder"], check=True)
    out = subprocess.run(
        [os.path.join(BENCH_VENV, "bin/python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    versions = {p["name"].lower(): p["version"] for p in json.loads(out)}
    return f"devpi-builder {versions.get('devpi-builder')}, devpi-client {versions.get('devpi-client')}, pip {versions.get('pip')}"


def offline_env(home: str, upstream_simple: str, path_first=None) -> dict:
    """The environment of every timed command: loopback only, local upstream only."""
    dead = "http://127.0.0.1:9"
    path = os.environ.get("PATH", "/usr/bin:/bin")
    if path_first:
        path = path_first + os.pathsep + path
    return {
        "PATH": path,
        "HOME": home,
        "LANG": "C.UTF-8",
        "http_proxy": dead,
        "https_proxy": dead,
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "ALL_PROXY": dead,
        "all_proxy": dead,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": upstream_simple,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
    }


class Bench:
    def __init__(self, args, work: str):
        self.args = args
        self.work = work
        self.ww = args.wheelwright
        self.results = {"cases": []}
        self.counter = 0

    def path(self, *parts) -> str:
        p = os.path.join(self.work, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def fresh_dir(self, stem: str) -> str:
        self.counter += 1
        d = os.path.join(self.work, f"{stem}-{self.counter}")
        os.makedirs(d)
        return d

    # ---- set-up ---------------------------------------------------------------------------

    def setup(self, server: DevpiServer, max_pins: int) -> None:
        t0 = time.perf_counter()
        self.s = Session(server.url, USER, PASSWORD)
        self.pwfile = self.path("password")
        with open(self.pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        self.upstream = self.s.create_index("upstream")
        self.upstream_simple = self.upstream + "/+simple/"
        self.noop_url = self.s.create_index("noop")
        gen = self.path("gen", "x")
        gen = os.path.dirname(gen)
        pairs = gw.pins(max_pins)
        items = [(gw.make_wheel(gw.canonical(i), v, gen), gw.canonical(i), v) for i, v in pairs]
        fetch = [(gw.make_wheel(gw.fetch_name(i), "1.0", gen), gw.fetch_name(i), "1.0") for i in range(N_FETCH)]
        up_items = fetch[:]
        for d in (FIXTURES, BACKEND_WHEELS):
            for name in sorted(os.listdir(d)):
                if not name.endswith((".whl", ".tar.gz")):
                    continue
                proj, ver = _name_version(name)
                up_items.append((os.path.join(d, name), proj, ver))
        self.s.upload_many("upstream", up_items)
        self.s.upload_many("noop", items)
        log(
            f"set-up: {len(items)} wheels on bench/noop, {len(up_items)} dists on bench/upstream "
            f"in {time.perf_counter() - t0:.1f}s"
        )

    # ---- commands -------------------------------------------------------------------------

    def ww_cmd(self, reqs, target, cache, report, quiet=True):
        cmd = [self.ww, "fill", reqs, target, "--index-url", self.upstream_simple]
        cmd += ["--user", USER, "--password-file", self.pwfile]
        cmd += ["--report-json", report, "--cache-dir", cache]
        cmd += ["--sandbox", self.args.ww_sandbox]
        return cmd + (["-q"] if quiet else [])

    def run_ww(self, reqs, target, cache, quiet=True):
        home = self.fresh_dir("home")
        report = os.path.join(home, "report.json")
        r = measure.run(
            self.ww_cmd(reqs, target, cache, report, quiet),
            offline_env(home, self.upstream_simple),
            os.path.join(home, "out.txt"),
        )
        r.report = json.load(open(report)) if os.path.exists(report) else None
        return r

    def run_db(self, reqs, target):
        home = self.fresh_dir("home")
        env = offline_env(home, self.upstream_simple, os.path.join(BENCH_VENV, "bin"))
        env["PIP_CACHE_DIR"] = os.path.join(home, "pip-cache")
        cmd = [os.path.join(BENCH_VENV, "bin/devpi-builder"), reqs, target]
        cmd += ["--batch", "--user", USER, "--password", PASSWORD]
        return measure.run(cmd, env, os.path.join(home, "out.txt"))

    # ---- cases ----------------------------------------------------------------------------

    def noop(self, n_pins: int) -> dict:
        pairs = gw.pins(n_pins)
        reqs = self.path(f"reqs/noop-{n_pins}.txt")
        gw.write_requirements(reqs, pairs)
        projects = sorted({gw.canonical(i) for i, _ in pairs})
        ww, db, floor, notes = [], [], [], []
        # The nightly after something changed on the server: the cache dir is kept (the
        # interpreter probe is remembered) but the remembered listings are stale, so every
        # project is asked again. The case with nothing changed is measured below.
        cache = self.fresh_dir("ww-cache")
        for rep in range(self.args.repeat):
            shutil.rmtree(os.path.join(cache, "listings"), ignore_errors=True)
            r = self.run_ww(reqs, self.noop_url, cache)
            present = (r.report or {}).get("summary", {}).get("present")
            if r.code != 0 or present != n_pins:
                notes.append(f"wheelwright rep {rep}: exit {r.code}, present {present}: {r.out_path}")
            ww.append(r)
            if not self.args.no_devpi_builder:
                d = self.run_db(reqs, self.noop_url)
                built = d.output().count("INFO:devpi_builder.cli:Building")
                if d.code != 0 or built:
                    notes.append(f"devpi-builder rep {rep}: exit {d.code}, {built} builds: {d.out_path}")
                db.append(d)
            floor.append(measure.http_floor(self.s.base, f"/{USER}/noop", projects))
            log(
                f"no-op {n_pins}: rep {rep}: wheelwright {r.wall:.2f}s"
                + (f", devpi-builder {db[-1].wall:.2f}s" if db else "")
                + f", floor {floor[-1]:.2f}s"
            )
        # Warm: nothing changed on the server since the last run (X-Devpi-Serial unchanged),
        # so wheelwright uses its remembered listings: one request in all.
        warm_cache = self.fresh_dir("ww-cache")
        self.run_ww(reqs, self.noop_url, warm_cache)
        warm = []
        for rep in range(self.args.repeat):
            r = self.run_ww(reqs, self.noop_url, warm_cache)
            present = (r.report or {}).get("summary", {}).get("present")
            if r.code != 0 or present != n_pins:
                notes.append(f"wheelwright warm rep {rep}: exit {r.code}, present {present}: {r.out_path}")
            warm.append(r)
        self.case(f"no-op {n_pins} pins, serial unchanged", warm, [], floor, [])
        return self.case(f"no-op {n_pins} pins ({len(projects)} projects)", ww, db, floor, notes)

    def cold(self) -> dict:
        reqs = self.path("reqs/cold.txt")
        wanted = COLD_FIXTURES + [(gw.fetch_name(i), "1.0") for i in range(N_FETCH)]
        wanted += [(p, "1.0") for p in COLD_BUILDS]
        with open(reqs, "w") as f:
            f.writelines(f"{p}=={v}\n" for p, v in wanted)
        ww, db, notes = [], [], []
        for rep in range(self.args.repeat):
            idx = f"cold-ww-{rep}"
            target = self.s.create_index(idx)
            r = self.run_ww(reqs, target, self.fresh_dir("ww-cache"))
            missing = [p for p, v in wanted if not self.s.has_wheel(idx, p, v)]
            if r.code != 0 or missing:
                notes.append(f"wheelwright rep {rep}: exit {r.code}, missing {missing}: {r.out_path}")
            ww.append(r)
            msg = f"cold: rep {rep}: wheelwright {r.wall:.2f}s ({len(wanted) - len(missing)}/{len(wanted)})"
            if not self.args.no_devpi_builder:
                idx = f"cold-db-{rep}"
                target = self.s.create_index(idx)
                d = self.run_db(reqs, target)
                missing = [p for p, v in wanted if not self.s.has_wheel(idx, p, v)]
                if d.code != 0 or missing:
                    notes.append(f"devpi-builder rep {rep}: exit {d.code}, missing {missing}: {d.out_path}")
                db.append(d)
                msg += f", devpi-builder {d.wall:.2f}s ({len(wanted) - len(missing)}/{len(wanted)})"
            log(msg)
        cpu = sum(c for c, _ in self.floor.values() if c is not None)
        floor = [cpu / os.cpu_count()]
        name = f"cold fill: {len(wanted) - len(COLD_BUILDS)} fetches + {len(COLD_BUILDS)} builds"
        return self.case(name, ww, db, floor, notes)

    def build_floor(self) -> None:
        site = self.fresh_dir("floor-site")
        build_floor.prepare_site(site, [BACKEND_WHEELS, FIXTURES], sys.executable)
        sdists = [os.path.join(FIXTURES, f"{p.replace('-', '_')}-1.0.tar.gz") for p in COLD_BUILDS]
        self.floor = build_floor.measure(sdists, site, self.fresh_dir("floor"), sys.executable, self.args.repeat)
        for name, (cpu, wall) in self.floor.items():
            log(f"build floor: {name}: cpu {cpu:.2f}s, wall {wall:.2f}s" if cpu else f"build floor: {name}: failed")
        self.results["build_floor"] = {k: {"cpu": c, "wall": w} for k, (c, w) in self.floor.items()}

    def overhead(self) -> dict:
        """One trivial build (ww-charlie): wheelwright with a warm cache (build environment
        cached) into a fresh index each time, versus `pip wheel --no-deps` of the sdist."""
        reqs = self.path("reqs/charlie.txt")
        with open(reqs, "w") as f:
            f.write("ww-charlie==1.0\n")
        cache = self.fresh_dir("ww-cache")
        self.run_ww(reqs, self.s.create_index("ovh-warm"), cache)
        ww_wall, ww_job, ww_built = [], [], []
        for rep in range(self.args.repeat):
            r = self.run_ww(reqs, self.s.create_index(f"ovh-ww-{rep}"), cache, quiet=False)
            jobs = (r.report or {}).get("jobs") or [{}]
            ww_wall.append(r.wall)
            ww_job.append(jobs[0].get("duration") if jobs[0].get("outcome") == "built" else None)
            ww_built.append(_built_seconds(r.output()))
        sdist = os.path.join(FIXTURES, "ww_charlie-1.0.tar.gz")
        home = self.fresh_dir("home")
        env = offline_env(home, self.upstream_simple, os.path.join(BENCH_VENV, "bin"))
        env["PIP_CACHE_DIR"] = os.path.join(home, "pip-cache")
        pip_wall = []
        for rep in range(self.args.repeat + 1):
            # pip would reuse the wheel it cached for this sdist; drop it so pip really builds.
            shutil.rmtree(os.path.join(home, "pip-cache", "wheels"), ignore_errors=True)
            out = self.fresh_dir("pip-out")
            r = measure.run(
                [os.path.join(BENCH_VENV, "bin/pip"), "wheel", "--no-deps", "-w", out, sdist],
                env,
                os.path.join(out, "log.txt"),
            )
            if r.code != 0 or not any(n.endswith(".whl") for n in os.listdir(out)):
                raise RuntimeError(f"pip wheel failed: {r.out_path}")
            if rep:  # the first run warms pip's HTTP cache
                pip_wall.append(r.wall)
        backend = self.floor["ww_charlie-1.0.tar.gz"][1]
        med = measure.median
        res = {
            "backend_wall": backend,
            "wheelwright_process_wall": med(ww_wall),
            "wheelwright_job_duration": med(ww_job),
            "wheelwright_build_log_seconds": med(ww_built),
            "pip_wheel_wall": med(pip_wall),
        }
        self.results["build_overhead"] = res
        return res

    def case(self, name, ww, db, floor, notes) -> dict:
        med = measure.median
        c = {
            "name": name,
            "wheelwright_s": med([r.wall for r in ww]),
            "wheelwright_cpu_s": med([r.cpu for r in ww]),
            "wheelwright_own_rss_mib": max(r.own_rss_mib for r in ww),
            "wheelwright_tree_rss_mib": max(r.tree_rss_mib for r in ww),
            "devpi_builder_s": med([r.wall for r in db]) if db else None,
            "devpi_builder_cpu_s": med([r.cpu for r in db]) if db else None,
            "devpi_builder_tree_rss_mib": max(r.tree_rss_mib for r in db) if db else None,
            "floor_s": med(floor),
            "runs": len(ww),
            "notes": notes,
        }
        self.results["cases"].append(c)
        return c


def _name_version(filename: str):
    base = filename[:-4] if filename.endswith(".whl") else filename[: -len(".tar.gz")]
    parts = base.split("-")
    return parts[0], parts[1]


def _built_seconds(output: str):
    """wheelwright's `built <file> in 0.4s` progress line."""
    for line in output.splitlines():
        words = line.split()
        if "built" in words and len(words) >= 3 and words[-2] == "in" and words[-1].endswith("s"):
            try:
                return float(words[-1][:-1])
            except ValueError:
                pass
    return None


def fmt(x, unit="s", digits=2):
    return "-" if x is None else f"{x:.{digits}f}{unit}"


def ratio(a, b, digits=1):
    return "-" if a is None or b in (None, 0) else f"{a / b:.{digits}f}x"


def print_table(b: Bench, meta: dict) -> None:
    print()
    print(f"wheelwright benchmark  ({meta['when']}, {meta['cores']} cores, load {meta['load']})")
    print(f"  {meta['wheelwright']} (--sandbox {b.args.ww_sandbox}); {meta['devpi_builder']}; devpi-server {meta['devpi_server']}")
    print(f"  medians of {b.args.repeat} runs; times are wall clock, ww/db = wheelwright / devpi-builder;")
    print("  CPU = user+sys of the tool's whole process tree (wait4)")
    print("  ww RSS = peak RSS of the wheelwright process itself (VmHWM); ww tree / db tree = peak")
    print("  RSS of the largest process in each tool's tree (wait4 ru_maxrss); peaks over the runs")
    print()
    head = f"{'case':<44} {'wheelwright':>11} {'devpi-bldr':>11} {'ww/db':>7} {'floor':>8} {'ww/floor':>9} {'ww CPU':>7} {'db CPU':>7} {'ww RSS':>8} {'ww tree':>8} {'db tree':>8}"
    print(head)
    print("-" * len(head))
    for c in b.results["cases"]:
        print(
            f"{c['name']:<44} {fmt(c['wheelwright_s']):>11} {fmt(c['devpi_builder_s']):>11} "
            f"{ratio(c['wheelwright_s'], c['devpi_builder_s'], 2):>7} {fmt(c['floor_s']):>8} "
            f"{ratio(c['wheelwright_s'], c['floor_s']):>9} "
            f"{fmt(c['wheelwright_cpu_s']):>7} {fmt(c['devpi_builder_cpu_s']):>7} {fmt(c['wheelwright_own_rss_mib'], 'M', 1):>8} "
            f"{fmt(c['wheelwright_tree_rss_mib'], 'M', 1):>8} {fmt(c['devpi_builder_tree_rss_mib'], 'M', 1):>8}"
        )
    print()
    if "build_floor" in b.results:
        print("build floor (backend hooks called directly; cpu / wall per build):")
        for k, v in b.results["build_floor"].items():
            print(f"  {k:<28} {fmt(v['cpu'])} / {fmt(v['wall'])}")
    if "build_overhead" in b.results:
        o = b.results["build_overhead"]
        bw = o["backend_wall"]
        print("build overhead, ww-charlie (trivial in-tree backend), wall:")
        print(f"  backend alone                        {fmt(bw)}")
        print(f"  pip wheel --no-deps (isolated)       {fmt(o['pip_wheel_wall'])}  overhead {fmt(_sub(o['pip_wheel_wall'], bw))}")
        print(f"  wheelwright build (log 'built in')   {fmt(o['wheelwright_build_log_seconds'], 's', 1)}  overhead {fmt(_sub(o['wheelwright_build_log_seconds'], bw))}")
        print(f"  wheelwright job (build+upload+check) {fmt(o['wheelwright_job_duration'])}  overhead {fmt(_sub(o['wheelwright_job_duration'], bw))}")
        print(f"  wheelwright whole fill process       {fmt(o['wheelwright_process_wall'])}")
    notes = [n for c in b.results["cases"] for n in c["notes"]]
    if notes:
        print("\nnotes (runs that did not end with everything on the target):")
        for n in notes:
            print(f"  {n}")


def _sub(a, b):
    return None if a is None or b is None else a - b


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 runs, only the 40 and 300 pin lists")
    ap.add_argument("--repeat", type=int, help="runs per measurement (default 5, --quick 2)")
    ap.add_argument("--sizes", help="comma-separated no-op list sizes (default 40,300,1000)")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--wheelwright", default=os.path.join(ROOT, "target/release/wheelwright"))
    ap.add_argument(
        "--ww-sandbox",
        default="required",
        choices=["required", "auto", "bwrap", "builtin", "off"],
        help="wheelwright's --sandbox (default required, i.e. auto: bwrap where it works)",
    )
    ap.add_argument("--no-devpi-builder", action="store_true", help="time wheelwright alone")
    ap.add_argument("--skip-cold", action="store_true", help="no cold fill, no build cases")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    args.repeat = args.repeat or (2 if args.quick else 5)
    sizes = [int(s) for s in (args.sizes or ("40,300" if args.quick else "40,300,1000")).split(",")]
    if not os.path.exists(args.wheelwright):
        sys.exit(f"{args.wheelwright} is missing: run `cargo build --release` first")
    for exe in ("devpi-init", "devpi-server"):
        if not os.path.exists(os.path.join(SERVER_VENV, "bin", exe)):
            sys.exit(f"{SERVER_VENV}/bin/{exe} is missing: run scripts/test.sh once (it creates the venv)")
    if not os.path.isdir(BACKEND_WHEELS):
        sys.exit(f"{BACKEND_WHEELS} is missing: run scripts/test.sh once (it downloads the backends)")

    # SIGTERM unwinds like Ctrl-C, so the server is always stopped.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "wheelwright": subprocess.run([args.wheelwright, "--version"], capture_output=True, text=True).stdout.strip(),
        "devpi_builder": "devpi-builder not run" if args.no_devpi_builder else ensure_bench_venv(),
        "devpi_server": subprocess.run(
            [os.path.join(SERVER_VENV, "bin/devpi-server"), "--version"], capture_output=True, text=True
        ).stdout.strip(),
    }
    os.makedirs(os.path.join(ROOT, ".cache"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-run-", dir=os.path.join(ROOT, ".cache"))
    server = DevpiServer(SERVER_VENV, os.path.join(work, "devpi"))
    b = Bench(args, work)
    try:
        log(f"devpi-server on {server.url}, work dir {work}")
        server.start()
        b.setup(server, max(sizes))
        for n in sizes:
            b.noop(n)
        if not args.skip_cold:
            b.build_floor()
            b.cold()
            # The overhead case compares with `pip wheel` from devpi-builder's venv.
            if not args.no_devpi_builder:
                b.overhead()
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        server.stop()
        meta["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        # Runs that went wrong point at their logs in the work directory: keep it then.
        failed = any(c["notes"] for c in b.results["cases"]) or sys.exc_info()[0] is not None
        if args.keep or failed:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(b, meta)
    print(f"\nload average at start {meta['load']}, at end {meta['load_end']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, **b.results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
