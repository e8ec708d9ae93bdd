"""Timing helpers: a child process with wall time and memory, the HTTP floor, the build floor.

Memory of a child is read two ways:
* `own_rss_mib`: the child's own peak (VmHWM from /proc/PID/status, sampled every 10 ms until
  it exits; VmHWM only grows, so the last sample is the peak up to <10 ms before exit);
* `tree_rss_mib`: `ru_maxrss` from `os.wait4`, the largest peak of the child and of every
  descendant it waited for (interpreter probes, build backends, pip subprocesses).
"""

import concurrent.futures
import http.client
import json
import os
import resource
import statistics
import subprocess
import threading
import time


class Run:
    def __init__(self, code, wall, cpu, own_rss_mib, tree_rss_mib, out_path):
        self.code = code
        self.wall = wall
        self.cpu = cpu
        self.own_rss_mib = own_rss_mib
        self.tree_rss_mib = tree_rss_mib
        self.out_path = out_path

    def output(self) -> str:
        with open(self.out_path, errors="replace") as f:
            return f.read()


def _sample_hwm(pid: int, box: list, stop: threading.Event) -> None:
    path = f"/proc/{pid}/status"
    while not stop.is_set():
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        box[0] = max(box[0], int(line.split()[1]))
        except (OSError, ValueError):
            return
        stop.wait(0.01)


def run(cmd, env, out_path, cwd=None) -> Run:
    """Run `cmd` to completion with stdout+stderr in `out_path`; measure it."""
    with open(out_path, "w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        box, stop = [0], threading.Event()
        sampler = threading.Thread(target=_sample_hwm, args=(proc.pid, box, stop), daemon=True)
        sampler.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
        stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        proc.returncode,
        wall,
        ru.ru_utime + ru.ru_stime,
        box[0] / 1024,
        ru.ru_maxrss / 1024,
        out_path,
    )


def http_floor(base: str, index_path: str, projects: list, workers: int = 16) -> float:
    """Wall time of exactly the presence requests of a no-op: one `GET /{user}/{index}/{project}`
    with `Accept: application/json` per distinct project, 16 threads, each with one
    keep-alive `http.client` connection; every body is read and parsed as JSON."""
    host, port = base.split("//", 1)[1].split(":")
    local = threading.local()

    def get(project):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.request("GET", f"{index_path}/{project}", headers={"Accept": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"floor GET {project}: {resp.status}")
        json.loads(body)

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(get, projects))
    return time.perf_counter() - t0


def child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
