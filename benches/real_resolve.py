#!/usr/bin/env python3
"""Real requirement sets: `wheelwright plan --deps` against pip's own resolution (issue 20).

    python3 benches/real_resolve.py [--python 3.11] [--only NAME,...] [--timeout 900]
                                    [--wheelwright PATH] [--json FILE] [--work DIR]

A benchmark, not a test: it reaches the public index pip on this machine is configured with.
The index URL is read at run time from pip itself (`pip._internal.models.index.PyPI`, the
index pip uses when nothing else is configured); it is written nowhere. Each set is resolved
by `pip install --dry-run --ignore-installed --report` and by `wheelwright plan --deps` (a
directory target, `-v`, the JSON report) for the same interpreter (a pyenv Python of the
wanted minor version under `$PYENV_ROOT/versions`), one after the other. pip runs with
`--isolated` (no user configuration, no `PIP_FIND_LINKS`), so both see the index alone.
wheelwright keeps its cache under `--work` (metadata by sha256, as a nightly job would);
pip keeps its own HTTP cache.

Prints one row per set: the set, the number of packages pip installs, pip's and
wheelwright's wall time, the versions wheelwright visited (its `summary.resolution`),
`same` or `differs` with the differing versions (`name pip/wheelwright`), and the order the
solver learnt from conflicts (restarts, packages decided late and early), which says for
which sets that heuristic mattered. Stdlib only.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, requirement lines). Extras, markers, old pins, large closures (ML, data, web, cloud,
# tooling), and the sets known to make resolvers backtrack first.
SETS = [
    ("celery-black", ["celery[redis]", "black"]),
    ("celery-stack", ["celery[redis]", "flower", "kombu", "black", "isort"]),
    ("pandas-all", ["pandas[all]"]),
    ("cloud-sdks", ["boto3", "google-cloud-storage", "azure-storage-blob", "azure-identity"]),
    ("jupyter-voila", ["jupyter", "notebook", "ipywidgets", "voila"]),
    ("requests-socks", ["requests[socks]"]),
    ("flask-db", ["flask", "flask-sqlalchemy", "alembic", "psycopg2-binary"]),
    ("django-api", ["django<5", "djangorestframework", "django-filter", "celery[redis]"]),
    ("fastapi-all", ["fastapi[all]"]),
    ("web-async", ["httpx[http2]", "aiohttp", "uvicorn[standard]", "starlette"]),
    ("sklearn-plot", ["scikit-learn", "matplotlib", "seaborn", "scipy"]),
    ("hf-stack", ["transformers", "datasets", "accelerate"]),
    ("torch", ["torch", "torchvision"]),
    ("langchain", ["langchain", "openai"]),
    ("dask", ["dask[dataframe,distributed]"]),
    ("streamlit", ["streamlit"]),
    ("dash", ["dash", "plotly", "pandas"]),
    ("docs", ["sphinx", "sphinx-rtd-theme", "myst-parser"]),
    ("mkdocs", ["mkdocs-material", "mkdocstrings[python]"]),
    ("test-tools", ["pytest", "pytest-cov", "tox", "nox", "pre-commit"]),
    ("linters", ["mypy", "ruff", "pylint", "flake8"]),
    ("packaging-tools", ["twine", "build", "hatch", "poetry"]),
    ("awscli", ["awscli"]),
    ("ansible", ["ansible"]),
    ("scrapy", ["scrapy"]),
    ("scraping", ["selenium", "beautifulsoup4", "lxml", "requests"]),
    ("ops", ["kubernetes", "docker", "fabric"]),
    ("moto", ["moto[s3,sqs]", "boto3"]),
    ("old-pins", ["django==3.2.25", "requests==2.25.1", "urllib3<1.26", "celery<5"]),
    ("pydantic-v1", ["pydantic<2", "fastapi<0.100"]),
    (
        "markers",
        [
            "pytest",
            'tomli; python_version < "3.11"',
            'exceptiongroup; python_version < "3.11"',
            'importlib-metadata; python_version < "3.10"',
            'uvloop; sys_platform != "win32"',
        ],
    ),
    ("sqlalchemy1", ["sqlalchemy<2", "pandas", "psycopg2-binary"]),
    ("airflow", ["apache-airflow[celery,postgres,redis]"]),
]


def log(message):
    print(message, file=sys.stderr, flush=True)


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def index_url():
    """The index pip uses when nothing else is configured, from pip itself."""
    from pip._internal.models.index import PyPI

    return PyPI.simple_url.rstrip("/") + "/"


def pyenv_python(minor):
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    versions = os.path.join(root, "versions")
    found = sorted(
        (d for d in os.listdir(versions) if d.startswith(minor + ".")),
        key=lambda d: [int(p) for p in d.split(".") if p.isdigit()],
    )
    if not found:
        sys.exit(f"no pyenv Python {minor} under {versions}")
    return os.path.join(versions, found[-1], "bin", "python3")


def default_wheelwright():
    for profile in ("release", "debug"):
        path = os.path.join(ROOT, "target", profile, "wheelwright")
        if os.path.isfile(path):
            return path
    sys.exit("no wheelwright binary: run `cargo build --release` first")


def run_pip(python, reqs, work, url, timeout):
    report = os.path.join(work, "pip.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    cmd = [
        python, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed",
        "--quiet", "--index-url", url, "--report", report, "-r", reqs,
    ]
    if os.environ.get("PIP_CERT"):
        cmd += ["--cert", os.environ["PIP_CERT"]]
    start = time.monotonic()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return time.monotonic() - start, None, f"timeout after {timeout}s"
    took = time.monotonic() - start
    if out.returncode != 0:
        return took, None, last_lines(out.stderr)
    with open(report) as f:
        data = json.load(f)
    chosen = {
        norm(item["metadata"]["name"]): item["metadata"]["version"] for item in data["install"]
    }
    return took, chosen, None


def run_wheelwright(exe, python, reqs, work, url, cache, timeout):
    report = os.path.join(work, "ww.json")
    cmd = [
        exe, "plan", reqs, "--deps", "--index-url", url, "--python", python,
        "--target", os.path.join(work, "target"), "--cache-dir", cache,
        "--report-json", report, "-v", "-q",
    ]
    start = time.monotonic()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.monotonic() - start, None, (None, ""), f"timeout after {timeout}s"
    took = time.monotonic() - start
    if out.returncode != 0 or not os.path.exists(report):
        return took, None, (None, ""), f"exit {out.returncode}: {last_lines(out.stderr)}"
    with open(report) as f:
        data = json.load(f)
    chosen = {}
    for job in data["jobs"]:
        if job.get("action") == "skipped" or not job.get("version"):
            continue
        chosen[norm(job["project"])] = job["version"]
    counts = list(data["summary"].get("resolution", {}).values())
    visited = sum(c.get("visited", 0) for c in counts)
    learnt = []
    for c in counts:
        if c.get("restarts"):
            late = ", ".join(c.get("decided_late", [])) or "-"
            early = ", ".join(c.get("decided_early", [])) or "-"
            learnt.append(f"{c['restarts']} restarts, late: {late}, early: {early}")
    return took, chosen, (visited, "; ".join(learnt)), None


def last_lines(text, n=6):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:])[:800]


def compare(pip, ww):
    diffs = []
    for name in sorted(set(pip) | set(ww)):
        a, b = pip.get(name, "-"), ww.get(name, "-")
        if a != b:
            diffs.append(f"{name} {a}/{b}")
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default="3.11", help="pyenv minor version (default 3.11)")
    ap.add_argument("--only", help="comma-separated set names")
    ap.add_argument("--skip", help="comma-separated set names to leave out")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per command")
    ap.add_argument("--wheelwright", default=None)
    ap.add_argument("--json", help="write every row as JSON here")
    ap.add_argument("--work", default=os.path.join(ROOT, ".cache/real-resolve"))
    args = ap.parse_args()

    exe = args.wheelwright or default_wheelwright()
    python = pyenv_python(args.python)
    url = index_url()
    cache = os.path.join(args.work, "ww-cache")
    os.makedirs(cache, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    skip = set(args.skip.split(",")) if args.skip else set()
    rows = []
    for name, lines in SETS:
        if (only and name not in only) or name in skip:
            continue
        work = tempfile.mkdtemp(prefix=f"{name}-", dir=args.work)
        reqs = os.path.join(work, "requirements.txt")
        with open(reqs, "w") as f:
            f.write("\n".join(lines) + "\n")
        log(f"== {name} ({args.python}): {', '.join(lines)}")
        pip_t, pip, pip_err = run_pip(python, reqs, work, url, args.timeout)
        log(f"   pip {pip_t:.1f}s {pip_err or ''}")
        ww_t, ww, (visited, learnt), ww_err = run_wheelwright(
            exe, python, reqs, work, url, cache, args.timeout
        )
        log(f"   wheelwright {ww_t:.1f}s {ww_err or ''}")
        if pip is not None and ww is not None:
            diffs = compare(pip, ww)
            verdict = "same" if not diffs else "differs: " + ", ".join(diffs)
        elif pip is None and ww is None:
            verdict = f"both fail (pip: {pip_err}; wheelwright: {ww_err})"
        elif pip is None:
            verdict = f"pip fails: {pip_err}"
        else:
            verdict = f"wheelwright fails: {ww_err}"
        row = {
            "set": name,
            "python": args.python,
            "packages": len(pip) if pip is not None else None,
            "pip_s": round(pip_t, 1),
            "wheelwright_s": round(ww_t, 1),
            "visited": visited,
            "learnt": learnt,
            "verdict": verdict,
        }
        rows.append(row)
        log(f"   {verdict}{'; ' + learnt if learnt else ''}")
        shutil.rmtree(work, ignore_errors=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)

    tag = "cp" + args.python.replace(".", "")
    print(f"\n| set ({tag}) | packages | pip (s) | wheelwright (s) | visited | result | learnt order |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['set']} | {r['packages'] if r['packages'] is not None else '-'} | "
            f"{r['pip_s']} | {r['wheelwright_s']} | {r['visited'] if r['visited'] is not None else '-'} | "
            f"{r['verdict']} | {r['learnt'] or '-'} |"
        )
    same = sum(1 for r in rows if r["verdict"] == "same")
    pip_total = sum(r["pip_s"] for r in rows)
    ww_total = sum(r["wheelwright_s"] for r in rows)
    print(f"\n{same}/{len(rows)} same; total pip {pip_total:.0f}s, wheelwright {ww_total:.0f}s")


if __name__ == "__main__":
    main()
