"""The app served for real: `python app.py` as a subprocess on a free 127.0.0.1 port, with its files kept apart.

Every server gets its own folders under one scratch directory, so a test can see exactly what the app leaves
behind: `tmp` (TMPDIR: anything a request writes to the temp directory) and `gradio` (GRADIO_TEMP_DIR: uploads,
Gradio's cache, and in it `emo-outputs`, the finished videos).

Also the raw HTTP an outsider would send: `call` (Gradio's plain API: POST the inputs, read the event stream),
`upload` (a multipart POST to the upload route), and `children` (what the server process has started and not reaped).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 120  # importing gradio, dlib and the songs takes ~10 s on 2 cores; leave room for a slow machine


@dataclass
class AppServer:
    url: str  # http://127.0.0.1:PORT/ (trailing slash)
    proc: subprocess.Popen
    scratch: Path
    log: Path

    @property
    def upload_dir(self) -> Path:
        return self.scratch / "gradio"

    @property
    def output_dir(self) -> Path:
        return self.upload_dir / "emo-outputs"

    @property
    def temp_dir(self) -> Path:
        return self.scratch / "tmp"

    def peak_memory_mb(self) -> float:
        """The server process's peak resident memory (VmHWM), in MiB."""
        return _status_kb(self.proc.pid, "VmHWM") / 1024

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def get(self, path: str, timeout: float = 10, **headers) -> tuple[int, bytes]:
        """(status, body) of a GET relative to the server's root; errors come back as their status, not raised."""
        request = urllib.request.Request(self.url + path.lstrip("/"), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def post(self, path: str, body: bytes, content_type: str, timeout: float = 30,
             headers: dict | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path.lstrip("/"), data=body, method="POST",
                                         headers={"Content-Type": content_type, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def upload(self, name: str, data: bytes, timeout: float = 60) -> str:
        """POST one file to Gradio's upload route, as the page does; the server path it was stored at."""
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        status, answer = self.post("gradio_api/upload", body, f"multipart/form-data; boundary={boundary}", timeout)
        assert status == 200, (status, answer[:300])
        return json.loads(answer)[0]

    def call(self, data: list, api: str = "generate", timeout: float = 60,
             headers: dict | None = None) -> tuple[str, str]:
        """Gradio's plain HTTP API, no client: POST the inputs, then read the event stream (bounded) to its end.

        Returns (last event name, its data): "complete" and the outputs, or "error" and the message.
        """
        status, answer = self.post(f"gradio_api/call/{api}", json.dumps({"data": data}).encode(), "application/json",
                                   headers=headers)
        if status != 200:
            return f"http {status}", answer.decode(errors="replace")
        event_id = json.loads(answer)["event_id"]
        event = payload = ""
        with urllib.request.urlopen(f"{self.url}gradio_api/call/{api}/{event_id}", timeout=timeout) as stream:
            for line in stream:  # ends when the server closes the stream
                line = line.decode().strip()
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    payload = line.split(":", 1)[1].strip()
        return event, payload

    def children(self) -> list[int]:
        """Processes started by the server (and by those) that are still there."""
        return _descendants(self.proc.pid)


def file_data(path) -> dict:
    """An input naming a file on the server, as Gradio's own page sends an upload's."""
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


def _descendants(pid: int) -> list[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (name)": state, ppid, ...
        except (OSError, IndexError):  # the process ended while we looked
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += sorted(frontier)
    return found


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(scratch: Path, **env: str) -> AppServer:
    """Start app.py on 127.0.0.1 with the warp engine and wait (bounded) until it answers; `env` overrides."""
    scratch.mkdir(parents=True, exist_ok=True)
    for sub in ("gradio", "tmp"):
        (scratch / sub).mkdir(exist_ok=True)
    port = free_port()
    full_env = {
        **os.environ,
        "EMO_ENGINE": "warp",
        
        "GRADIO_TEMP_DIR": str(scratch / "gradio"),
        "TMPDIR": str(scratch / "tmp"),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    log = scratch / "server.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=full_env, stdout=sink,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = AppServer(f"http://127.0.0.1:{port}/", proc, scratch, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode} before serving:\n{server.log_text()[-3000:]}")
        try:
            if server.get("gradio_api/info", timeout=2)[0] == 200:
                return server
        except (OSError, urllib.error.URLError):
            pass  # not listening yet
        time.sleep(0.25)
    stop_app(server)
    raise RuntimeError(f"app.py did not answer within {START_TIMEOUT_S} s:\n{server.log_text()[-3000:]}")


def stop_app(server: AppServer) -> None:
    """Terminate the server (SIGTERM, then SIGKILL after 10 s) and reap it."""
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)


def files_under(folder: Path) -> list[Path]:
    """Every file below `folder` (recursively), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file())
