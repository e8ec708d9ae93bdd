"""wheelwright's PEP 517 hook runner: one hook per invocation, inside the build sandbox.

Usage: python -S -s -E shim.py <hook> <control_dir>

Reads control_dir/input.json:
    {"backend": "mod.path:obj.path", "backend_path": [abs dirs], "site_dirs": [abs dirs],
     "kwargs": {...}, "nproc": int | null}
and writes control_dir/output.json with exactly one of
    {"return_val": ...} | {"hook_missing": true} | {"unsupported": true, "traceback": str}
    | {"traceback": str}
plus "wall" and "cpu" (seconds spent in the hook, cpu including waited-for children).

The protocol follows pyproject_hooks' _in_process.py. Python is started with -S so the base
interpreter's own site-packages never appear; only the build environment's site dirs are added,
through site.addsitedir so their .pth files work the way an installed environment's would.
"""

import json
import os
import sys
import time
import traceback


def main():
    hook_name, control_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(control_dir, "input.json"), encoding="utf-8") as f:
        request = json.load(f)

    # Per-sandbox process cap: only set when the sandbox has its own user namespace, where
    # RLIMIT_NPROC counts this sandbox's processes alone (see sandbox.rs).
    if request.get("nproc"):
        import resource

        n = int(request["nproc"])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))

    # The script's own directory is not part of the build's world.
    script_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != script_dir]

    import site

    for d in request.get("site_dirs", []):
        site.addsitedir(d)
    backend_path = request.get("backend_path") or []
    # PEP 517: backend-path entries go first on sys.path.
    sys.path[:0] = backend_path

    result = {}
    start_wall = time.perf_counter()
    start_cpu = cpu_seconds()
    try:
        backend = load_backend(request["backend"], backend_path)
        hook = getattr(backend, hook_name, None)
        if hook is None:
            result["hook_missing"] = True
        else:
            result["return_val"] = hook(**request.get("kwargs", {}))
    except Exception as exc:  # noqa: BLE001 - everything is reported to the front end
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        result["traceback"] = tb
        if type(exc).__name__ == "UnsupportedOperation":
            result["unsupported"] = True
    result["wall"] = time.perf_counter() - start_wall
    result["cpu"] = cpu_seconds() - start_cpu

    tmp = os.path.join(control_dir, "output.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(tmp, os.path.join(control_dir, "output.json"))
    sys.stdout.flush()
    sys.stderr.flush()
    return 1 if "traceback" in result else 0


def load_backend(spec, backend_path):
    import importlib

    mod_path, _, obj_path = spec.partition(":")
    obj = importlib.import_module(mod_path.strip())
    if backend_path:
        # pyproject_hooks' BackendInvalid check: an in-tree backend must come from backend-path.
        origin = os.path.abspath(getattr(obj, "__file__", "") or "")
        roots = [os.path.abspath(p) for p in backend_path]
        if not any(origin.startswith(r + os.sep) for r in roots):
            raise ImportError(
                "backend %r was loaded from %r, not from backend-path %r" % (spec, origin, roots)
            )
    for part in filter(None, obj_path.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def cpu_seconds():
    try:
        import resource
    except ImportError:
        return 0.0
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


if __name__ == "__main__":
    sys.exit(main())
