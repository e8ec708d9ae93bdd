#!/usr/bin/env python3
"""The enterprise devpi layout with a mirror of the public index: wheelwright vs devpi-builder.

    cargo build --release
    python3 benches/devpi_layout.py                 # the large-project list, both tools
    python3 benches/devpi_layout.py --projects requests,django --no-devpi-builder

A benchmark, not a test: it reads the public index. Its address is taken at run time from
pip's own configuration (`pip._internal.models.index.PyPI.simple_url`), never written here.

For each tool a fresh devpi-server (from `.venv-test`, which `scripts/test.sh` creates) gets
the layout wheelwright is made for:

    team/dev  ->  shared/stable  ->  shared/thirdparty-local (mirror_whitelist=*)  ->  root/pypi

where `root/pypi` mirrors the public index. The requirement list pins each project's newest
release that has a wheel for this interpreter, read from the index's PEP 691 page at start.
Every pin is then present on `team/dev` through the mirror: the runs are no-ops, and what is
timed is presence. Each tool runs on its own server, so each pays the mirror's first contact
with the projects once ("first contact"), then runs again ("warm").

wheelwright: `plan`, then `plan` again, then `fill` twice (the first warm fill reads the pages
again, because the mirror's first answers moved devpi's serial; the second is the no-op a
nightly job sees: devpi's serial has not moved, one request). devpi-builder (installed once
into `.cache/bench-venv` by `benches/run.py`'s set-up): its run, twice.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from devpi_server import DevpiServer, Session, request  # noqa: E402
from measure import run  # noqa: E402
from run import BENCH_VENV, ensure_bench_venv, log  # noqa: E402

DEFAULT_PROJECTS = "botocore,boto3,jupyterlab,numpy,pandas,django,requests,setuptools"
VENV = os.path.join(ROOT, ".venv-test")


def public_simple_url() -> str:
    from pip._internal.models.index import PyPI

    return PyPI.simple_url.rstrip("/") + "/"


def newest_with_wheel(simple: str, project: str) -> str:
    """The newest final release of `project` with a wheel this interpreter takes."""
    # pip's own copy of packaging: nothing to install.
    from pip._vendor.packaging.tags import sys_tags
    from pip._vendor.packaging.utils import parse_wheel_filename
    from pip._vendor.packaging.version import Version

    import platform

    from pip._vendor.packaging.specifiers import SpecifierSet

    accept = set(sys_tags())
    python = platform.python_version()
    req = urllib.request.Request(
        f"{simple}{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(req, timeout=120) as answer:
        page = json.load(answer)
    best = None
    for f in page["files"]:
        if not f["filename"].endswith(".whl") or f.get("yanked"):
            continue
        _, version, _, tags = parse_wheel_filename(f["filename"])
        if version.is_prerelease or not tags & accept:
            continue
        if f.get("requires-python") and python not in SpecifierSet(f["requires-python"]):
            continue
        best = version if best is None or version > best else best
    if best is None:
        raise SystemExit(f"{project}: no wheel for this interpreter on the index")
    return str(Version(str(best)))


def layout(server: DevpiServer, upstream: str) -> Session:
    root = Session(server.url, "root", "benchroot")
    status, body = request(
        server.url,
        "PUT",
        "/root/pypi",
        {"type": "mirror", "mirror_url": upstream, "volatile": False},
        root.auth,
    )
    if status not in (200, 201):
        raise RuntimeError(f"creating root/pypi: {status} {body[:200]!r}")
    shared = Session(server.url, "shared", "sharedpw")
    shared.create_index("thirdparty-local", ["root/pypi"])
    status, body = request(
        server.url,
        "PATCH",
        "/shared/thirdparty-local",
        ["mirror_whitelist=*"],
        shared.auth,
    )
    if status != 200:
        raise RuntimeError(f"mirror_whitelist: {status} {body[:200]!r}")
    shared.create_index("stable", ["shared/thirdparty-local"])
    team = Session(server.url, "team", "teampw")
    team.create_index("dev", ["shared/stable"])
    return team


def load_project_list(server: DevpiServer) -> float:
    """Has the mirror read the public index's list of project names (devpi fetches it once
    and keeps it). A mirror that has not yet got it answers project pages from an empty list
    while the fetch runs: "not found" for projects that exist. A devpi that has been running
    has the list, so the first contact measured here is with the projects, not with the
    list. Returns how long loading it took."""
    started = time.monotonic()
    deadline = started + 900
    while time.monotonic() < deadline:
        try:
            status, body = request(
                server.url,
                "GET",
                "/root/pypi/+simple/",
                headers={"Accept": "application/vnd.pypi.simple.v1+json"},
            )
        except OSError:
            status, body = 0, b""
        if status == 200 and len(json.loads(body).get("projects", [])) > 10_000:
            return time.monotonic() - started
        time.sleep(5)
    raise SystemExit("the mirror did not load the public index's project list in 15 minutes")


def env(home: str) -> dict:
    path = os.path.join(BENCH_VENV, "bin") + os.pathsep + os.environ.get("PATH", "")
    keep = {k: v for k, v in os.environ.items() if k.endswith(("_CA_BUNDLE", "SSL_CERT_FILE"))}
    return {
        **keep,
        "PATH": path,
        "HOME": home,
        "LANG": "C.UTF-8",
        "NO_PROXY": "127.0.0.1,localhost",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def present(report: str) -> str:
    try:
        with open(report) as f:
            jobs = json.load(f)["jobs"]
    except (OSError, ValueError, KeyError):
        return "-"
    here = sum(1 for j in jobs if j.get("action") == "present" or j.get("outcome") == "present")
    return f"{here}/{len(jobs)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--projects", default=DEFAULT_PROJECTS)
    ap.add_argument("--wheelwright", default=None)
    ap.add_argument("--no-devpi-builder", action="store_true")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    ww = args.wheelwright or next(
        p
        for p in (os.path.join(ROOT, "target/release/wheelwright"), os.path.join(ROOT, "target/debug/wheelwright"))
        if os.path.exists(p)
    )
    upstream = public_simple_url()
    projects = [p.strip() for p in args.projects.split(",") if p.strip()]
    pins = [f"{p}=={newest_with_wheel(upstream, p)}" for p in projects]
    log("pins: " + " ".join(pins))
    meta = "devpi-builder not run" if args.no_devpi_builder else ensure_bench_venv()
    work = tempfile.mkdtemp(prefix="ww-bench-layout-", dir=os.path.join(ROOT, ".cache"))
    reqs = os.path.join(work, "requirements.txt")
    with open(reqs, "w") as f:
        f.write("\n".join(pins) + "\n")
    rows = []

    def timed(tool, case, cmd, home, report=None):
        out = os.path.join(work, f"{tool}-{case.replace(' ', '-')}.log")
        r = run(cmd, env(home), out)
        rows.append((tool, case, r.wall, r.cpu, r.code, present(report) if report else "-"))
        log(f"{tool} {case}: {r.wall:.1f}s, exit {r.code}")
        return r

    tools = ["wheelwright"] + ([] if args.no_devpi_builder else ["devpi-builder"])
    for tool in tools:
        server = DevpiServer(VENV, os.path.join(work, f"server-{tool}"))
        server.start()
        try:
            layout(server, upstream)
            log(f"{tool}: the mirror loaded the project list in {load_project_list(server):.0f}s")
            dev = f"{server.url}/team/dev"
            home = os.path.join(work, f"home-{tool}")
            os.makedirs(home)
            if tool == "wheelwright":
                cache = os.path.join(work, "ww-cache")
                report = os.path.join(work, "ww.json")
                common = ["--cache-dir", cache, "--python", sys.executable, "--report-json", report]
                plan = [ww, "plan", reqs, "--target", dev, *common]
                fill = [ww, "fill", reqs, dev, *common, "-q"]
                timed(tool, "plan, first contact", plan, home, report)
                timed(tool, "plan, warm", plan, home, report)
                timed(tool, "fill no-op, warm", fill, home, report)
                timed(tool, "fill no-op, serial unchanged", fill, home, report)
            else:
                cmd = [
                    os.path.join(BENCH_VENV, "bin/devpi-builder"),
                    reqs,
                    dev,
                    "--batch",
                    "--user",
                    "team",
                    "--password",
                    "teampw",
                ]
                timed(tool, "no-op, first contact", cmd, home)
                timed(tool, "no-op, warm", cmd, home)
        finally:
            server.stop()

    print()
    print(f"Enterprise devpi layout, {len(pins)} pins present through a mirror of the public index")
    print(f"  {meta}; devpi-server from .venv-test; {os.cpu_count()} cores; wall clock, one run each")
    print(f"  {'tool':<14} {'case':<30} {'wall':>8} {'cpu':>7} {'exit':>5} {'present':>8}")
    for tool, case, wall, cpu, code, here in rows:
        print(f"  {tool:<14} {case:<30} {wall:>7.1f}s {cpu:>6.1f}s {code:>5} {here:>8}")
    if args.keep:
        print(f"  work directory: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    log(f"done in {time.monotonic() - started:.0f}s")
    sys.exit(code)
