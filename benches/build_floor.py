"""The build floor: what the build backends themselves cost, without any front end.

Method: the backends and the build requirements (setuptools, wheel, flit_core, hatchling and
their dependencies, ww-alpha for ww-golf) are installed once with `pip install --target` into
one directory from the local wheels, no network. For each sdist, unpacked once, a fresh
`python3 -c` calls the PEP 517 hooks directly, in the sdist directory:
`get_requires_for_build_wheel({})` (when defined) then `build_wheel(outdir)`, with that
directory on PYTHONPATH and the `backend-path` entries first on sys.path. The CPU time of that
child (user+sys, from RUSAGE_CHILDREN deltas) and its wall time are recorded. Interpreter
start-up and the backend's imports are included: every front end pays them once per build.
No isolation, no environment creation, no upload.
"""

import os
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib

from measure import child_cpu

HOOK_SCRIPT = r"""
import importlib, os, sys
backend, paths, out = sys.argv[1], sys.argv[2].split(os.pathsep) if sys.argv[2] else [], sys.argv[3]
sys.path[:0] = [os.path.abspath(p) for p in paths]
mod, _, attr = backend.partition(":")
obj = importlib.import_module(mod)
for part in filter(None, attr.split(".")):
    obj = getattr(obj, part)
if hasattr(obj, "get_requires_for_build_wheel"):
    obj.get_requires_for_build_wheel({})
print(obj.build_wheel(out))
"""


def prepare_site(site: str, wheel_dirs: list, python: str) -> None:
    cmd = [python, "-m", "pip", "install", "-q", "--no-index", "--target", site]
    for d in wheel_dirs:
        cmd += ["--find-links", d]
    cmd += ["setuptools", "wheel", "flit_core>=3.2,<4", "hatchling", "ww-alpha==2.0"]
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_ROOT_USER_ACTION="ignore")
    subprocess.run(cmd, check=True, env=env)


def backend_of(src: str):
    path = os.path.join(src, "pyproject.toml")
    if not os.path.exists(path):
        # PEP 517: no pyproject.toml means the legacy setuptools backend.
        return "setuptools.build_meta:__legacy__", []
    with open(path, "rb") as f:
        bs = tomllib.load(f).get("build-system", {})
    return (
        bs.get("build-backend", "setuptools.build_meta:__legacy__"),
        bs.get("backend-path", []),
    )


def measure(sdists: list, site: str, work: str, python: str, repeat: int) -> dict:
    """Median CPU and wall seconds per sdist: {sdist basename: (cpu, wall)}."""
    results = {}
    for sdist in sdists:
        unpack = tempfile.mkdtemp(dir=work)
        with tarfile.open(sdist) as tf:
            tf.extractall(unpack, filter="data")
        (top,) = os.listdir(unpack)
        src = os.path.join(unpack, top)
        backend, paths = backend_of(src)
        cpus, walls = [], []
        for _ in range(repeat):
            out = tempfile.mkdtemp(dir=work)
            env = {
                "PATH": os.environ["PATH"],
                "PYTHONPATH": site,
                "HOME": work,
                "LANG": "C.UTF-8",
            }
            c0, t0 = child_cpu(), time.perf_counter()
            proc = subprocess.run(
                [python, "-c", HOOK_SCRIPT, backend, os.pathsep.join(paths), out],
                cwd=src,
                env=env,
                capture_output=True,
                text=True,
            )
            walls.append(time.perf_counter() - t0)
            cpus.append(child_cpu() - c0)
            if proc.returncode != 0 or not any(n.endswith(".whl") for n in os.listdir(out)):
                sys.stderr.write(f"build floor: {os.path.basename(sdist)} failed:\n{proc.stderr}\n")
                cpus, walls = [None], [None]
                break
        cpus.sort(key=lambda x: x or 0)
        walls.sort(key=lambda x: x or 0)
        results[os.path.basename(sdist)] = (cpus[len(cpus) // 2], walls[len(walls) // 2])
    return results
