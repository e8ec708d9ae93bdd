"""A throw-away devpi-server on loopback and the few HTTP calls the benchmark needs to set it up.

Everything speaks devpi's HTTP API directly (see docs/devpi-protocol.md): `PUT /{user}`,
`POST /+login`, `PUT /{user}/{index}`, multipart `:action=file_upload` with `X-Devpi-Auth`.
"""

import base64
import concurrent.futures
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import uuid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevpiServer:
    """`devpi-init` + `devpi-server --no-root-pypi` in `serverdir`; `stop()` kills it (by pid)."""

    def __init__(self, venv: str, serverdir: str):
        self.venv = venv
        self.serverdir = serverdir
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(serverdir + "-log.txt")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        subprocess.run(
            [
                os.path.join(self.venv, "bin/devpi-init"),
                "--serverdir",
                self.serverdir,
                "--no-root-pypi",
                "--root-passwd",
                "benchroot",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [
                os.path.join(self.venv, "bin/devpi-server"),
                "--serverdir",
                self.serverdir,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"devpi-server exited early, see {self.log_path}")
            try:
                status, _ = request(self.url, "GET", "/+api")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"devpi-server did not answer within 120 s, see {self.log_path}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _conn(base: str) -> http.client.HTTPConnection:
    host, port = base.split("//", 1)[1].split(":")
    return http.client.HTTPConnection(host, int(port), timeout=120)


def request(base, method, path, body=None, headers=None, conn=None):
    """One request; returns (status, body bytes). Reuses `conn` (keep-alive) when given."""
    own = conn is None
    c = conn or _conn(base)
    try:
        hdrs = {"Accept": "application/json"}
        hdrs.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=hdrs)
        resp = c.getresponse()
        return resp.status, resp.read()
    finally:
        if own:
            c.close()


class Session:
    """A logged-in devpi user."""

    def __init__(self, base: str, user: str, password: str):
        self.base = base
        self.user = user
        self.password = password
        status, body = request(base, "PUT", f"/{user}", {"password": password})
        if status not in (201, 409):
            raise RuntimeError(f"creating user {user}: {status} {body[:200]!r}")
        status, body = request(base, "POST", "/+login", {"user": user, "password": password})
        if status != 200:
            raise RuntimeError(f"login as {user}: {status} {body[:200]!r}")
        token = json.loads(body)["result"]["password"]
        self.auth = {"X-Devpi-Auth": base64.b64encode(f"{user}:{token}".encode()).decode()}
        self._local = threading.local()

    def index_url(self, index: str) -> str:
        return f"{self.base}/{self.user}/{index}"

    def create_index(self, index: str, bases=()) -> str:
        status, body = request(
            self.base,
            "PUT",
            f"/{self.user}/{index}",
            {"type": "stage", "bases": list(bases), "volatile": False},
            self.auth,
        )
        if status not in (200, 201):
            raise RuntimeError(f"creating index {index}: {status} {body[:200]!r}")
        return self.index_url(index)

    def _thread_conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            c = self._local.conn = _conn(self.base)
        return c

    def upload(self, index: str, path: str, name: str, version: str) -> None:
        boundary = uuid.uuid4().hex
        fields = [(":action", "file_upload"), ("name", name), ("version", version)]
        parts = []
        for k, v in fields:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            )
        with open(path, "rb") as f:
            data = f.read()
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; "
            f'filename="{os.path.basename(path)}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        headers = dict(self.auth)
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        for attempt in range(3):
            try:
                status, body = request(
                    self.base,
                    "POST",
                    f"/{self.user}/{index}/",
                    b"".join(parts),
                    headers,
                    self._thread_conn(),
                )
                break
            except (OSError, http.client.HTTPException):
                self._local.conn = None
                if attempt == 2:
                    raise
        if status != 200:
            raise RuntimeError(f"upload {path} to {index}: {status} {body[:300]!r}")

    def upload_many(self, index: str, items, workers: int = 8) -> None:
        """items: (path, name, version) triples, uploaded by a thread pool."""
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            for fut in [pool.submit(self.upload, index, *it) for it in items]:
                fut.result()

    def has_wheel(self, index: str, project: str, version: str) -> bool:
        """Does the index itself list a wheel of `project` `version`?"""
        project = re.sub(r"[-_.]+", "-", project).lower()  # PEP 503
        status, body = request(self.base, "GET", f"/{self.user}/{index}/{project}")
        if status != 200:
            return False
        links = json.loads(body)["result"].get(version, {}).get("+links") or []
        return any(link["href"].endswith(".whl") for link in links)
