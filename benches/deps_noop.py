"""Cost of `--deps` (issue 13): the no-op of a ~300-project closure against the pinned no-op
of the same projects, and the cold `--deps` plan with a cold metadata cache.

    python3 benches/deps_noop.py [--projects 300] [--repeat 3] [--wheelwright PATH]

Everything is local: generated wheels (benches/gen_wheels.py) in a find-links directory are
the upstream (`--no-index --find-links`), a directory is the target. Project `i` requires
projects `2i+1` and `2i+2` (a binary tree), so the root `bench-dep-0` alone has the whole
closure; each project has versions 1.0 and 2.0 and the solver picks 2.0. The target is filled
once with `fill --deps`; then, each run with a fresh HOME:

- deps no-op: `fill --deps` of the root, warm cache dir (metadata cached by sha256);
- pinned no-op: `fill` of the 300 pins `bench-dep-i==2.0`, same cache dir;
- cold deps plan: `plan --deps` of the root with a fresh cache dir.

With `--http` the find-links directory is served over loopback HTTP (Python's http.server,
no range requests: metadata comes from downloading each wheel into the store).
With `--pypiserver` the wheels are served by the test venv's pypiserver (`--index-url`, the
simple pages carry sha256 fragments, so warm metadata is found by hash).
With `--devpi` they are uploaded (by wheelwright) to a stage of the test venv's devpi-server,
whose `+simple/` is the upstream: the enterprise set-up.

The `--deps` no-op takes the solve remembered under the upstream's state where the upstream
can name it (a find-links directory or page, a devpi serial); pypiserver cannot, so there every
closure project is listed again.
Prints the median wall time of each case and the ratio deps/pinned (goal: at most 2).
Stdlib only.
"""

import argparse
import base64
import functools
import json
import http.server
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_wheels  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_binary() -> str:
    for profile in ("release", "debug"):
        path = os.path.join(ROOT, "target", profile, "wheelwright")
        if os.path.isfile(path):
            return path
    sys.exit("no wheelwright binary: run `cargo build --release` first")


def name(i: int) -> str:
    return f"bench-dep-{i}"


def generate(upstream: str, n: int) -> None:
    for i in range(n):
        children = [c for c in (2 * i + 1, 2 * i + 2) if c < n]
        for version in ("1.0", "2.0"):
            gen_wheels.make_wheel(
                name(i), version, upstream, tuple(f"{name(c)}>=1.0" for c in children)
            )


def start_pypiserver(packages: str, work: str, started: list) -> str:
    """pypiserver on a free loopback port serving `packages`; returns its `/simple/` URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    binary = os.path.join(ROOT, ".venv-test", "bin", "pypi-server")
    log = open(os.path.join(work, "pypiserver.log"), "w")
    started.append(
        subprocess.Popen(
            [binary, "run", "-p", str(port), "-i", "127.0.0.1", "-P", ".", "-a", ".", packages],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    url = f"http://127.0.0.1:{port}/simple/"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url, timeout=1):
                return url
        except OSError:
            time.sleep(0.05)
    sys.exit(f"pypiserver did not answer on {url}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_devpi(work: str, started: list) -> tuple:
    """A devpi-server with an empty `root/upstream` stage; returns (server URL, root password)."""
    venv = os.path.join(ROOT, ".venv-test", "bin")
    data = os.path.join(work, "devpi")
    password = "bench-root"
    subprocess.run(
        [os.path.join(venv, "devpi-init"), "--serverdir", data, "--no-root-pypi",
         "--root-passwd", password],
        check=True, capture_output=True,
    )
    port = free_port()
    log = open(os.path.join(work, "devpi.log"), "w")
    started.append(
        subprocess.Popen(
            [os.path.join(venv, "devpi-server"), "--serverdir", data, "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{url}/+api", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit(f"devpi-server did not answer on {url}")

    def call(method: str, path: str, body: dict, headers: dict) -> dict:
        request = urllib.request.Request(
            f"{url}{path}", data=json.dumps(body).encode(), method=method,
            headers={"Accept": "application/json", "Content-Type": "application/json", **headers},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    token = call("POST", "/+login", {"user": "root", "password": password}, {})
    auth = base64.b64encode(f"root:{token['result']['password']}".encode()).decode()
    call("PUT", "/root/upstream", {"type": "stage", "bases": [], "volatile": True},
         {"X-Devpi-Auth": auth})
    return url, password


def timed(cmd: list, home: str) -> float:
    env = dict(os.environ, HOME=home, PIP_CONFIG_FILE="/dev/null")
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[proxy] = "http://127.0.0.1:9"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {done.returncode}\n{done.stderr[-3000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wheelwright", default=None)
    parser.add_argument(
        "--http",
        action="store_true",
        help="serve the upstream directory over loopback HTTP (find-links URL) instead",
    )
    parser.add_argument(
        "--pypiserver",
        action="store_true",
        help="serve the wheels with .venv-test's pypiserver (--index-url) instead",
    )
    parser.add_argument(
        "--devpi",
        action="store_true",
        help="upload the wheels to a stage of .venv-test's devpi-server (--index-url) instead",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    binary = args.wheelwright or default_binary()

    work = tempfile.mkdtemp(prefix="ww-bench-deps-")
    started = []
    try:
        upstream = os.path.join(work, "upstream")
        target = os.path.join(work, "target")
        cache = os.path.join(work, "cache")
        os.makedirs(upstream)
        generate(upstream, args.projects)
        roots = os.path.join(work, "roots.txt")
        with open(roots, "w") as f:
            f.write(f"{name(0)}\n")
        pins = os.path.join(work, "pins.txt")
        with open(pins, "w") as f:
            f.writelines(f"{name(i)}==2.0\n" for i in range(args.projects))
        links = upstream
        if args.http:
            handler = functools.partial(
                http.server.SimpleHTTPRequestHandler, directory=upstream
            )
            handler.func.log_message = lambda *a: None
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            links = f"http://127.0.0.1:{server.server_address[1]}/"
        source = ["--no-index", "--find-links", links, "--target", target, "-q"]
        if args.pypiserver:
            links = start_pypiserver(upstream, work, started)
            source = ["--index-url", links, "--target", target, "-q"]
        if args.devpi:
            server, password = start_devpi(work, started)
            every = os.path.join(work, "every-version.txt")
            with open(every, "w") as f:
                f.writelines(
                    f"{name(i)}=={v}\n" for i in range(args.projects) for v in ("1.0", "2.0")
                )
            env = dict(os.environ, DEVPI_USER="root", DEVPI_PASSWORD=password)
            subprocess.run(
                [binary, "fill", every, "--no-index", "--find-links", upstream, "-q",
                 f"{server}/root/upstream", "--cache-dir", os.path.join(work, "upload-cache")],
                check=True, env=env, capture_output=True,
            )
            links = f"{server}/root/upstream/+simple/"
            source = ["--index-url", links, "--target", target, "-q"]

        def home() -> str:
            return tempfile.mkdtemp(dir=work, prefix="home-")

        first = timed(
            [binary, "fill", roots, "--deps", *source, "--cache-dir", cache], home()
        )
        files = [f for f in os.listdir(target) if f.endswith(".whl")]
        if len(files) != args.projects:
            sys.exit(f"the first fill left {len(files)} wheels, not {args.projects}")

        figures = {
            "deps no-op": [],
            "pinned no-op": [],
            "cold deps plan": [],
            "pip resolve (cold)": [],
        }
        # pip's own resolution of the same root over the same upstream, without a cache:
        # what the cold plan is set against.
        pip_source = (
            ["--index-url", links]
            if args.pypiserver or args.devpi
            else ["--no-index", "--find-links", links]
        )
        pip = [
            os.path.join(ROOT, ".venv-test", "bin", "python"), "-m", "pip", "install",
            "--dry-run", "--ignore-installed", "--no-cache-dir", "--quiet",
            "--report", os.devnull, *pip_source, name(0),
        ]
        for _ in range(args.repeat):
            figures["deps no-op"].append(
                timed([binary, "fill", roots, "--deps", *source, "--cache-dir", cache], home())
            )
            figures["pinned no-op"].append(
                timed([binary, "fill", pins, *source, "--cache-dir", cache], home())
            )
            cold = tempfile.mkdtemp(dir=work, prefix="cold-cache-")
            figures["cold deps plan"].append(
                timed([binary, "plan", roots, "--deps", *source, "--cache-dir", cold], home())
            )
            figures["pip resolve (cold)"].append(timed(pip, home()))

        kind = "index-url" if args.pypiserver or args.devpi else "find-links"
        print(f"wheelwright {binary}; upstream: {kind} {links}")
        print(f"{args.projects} projects (2 versions each), {args.repeat} runs, median wall time")
        print(f"  first fill --deps (cold):  {first:8.3f} s")
        for case, walls in figures.items():
            runs = ", ".join(f"{w:.3f}" for w in walls)
            print(f"  {case + ':':26} {statistics.median(walls):8.3f} s  ({runs})")
        ratio = statistics.median(figures["deps no-op"]) / statistics.median(
            figures["pinned no-op"]
        )
        print(f"  deps no-op / pinned no-op: {ratio:8.2f}  (goal <= 2)")
    finally:
        for process in started:
            process.terminate()
            process.wait()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
