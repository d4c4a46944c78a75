"""The app served for real: `python app.py` as a subprocess on a free 127.0.0.1 port, with its files kept apart.

Every server gets its own folders under one scratch directory, so a test can see exactly what the app leaves
behind: `tmp` (TMPDIR: anything a request writes to the temp directory), `tmp/emo-outputs` (EMO_OUTPUT_DIR, the
finished videos, inside the temp directory as with the default /tmp/emo-outputs) and `gradio` (GRADIO_TEMP_DIR:
uploads and Gradio's copies of results).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
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
    output_dir: Path  # EMO_OUTPUT_DIR

    @property
    def upload_dir(self) -> Path:
        return self.scratch / "gradio"

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
        "EMO_OUTPUT_DIR": str(scratch / "tmp" / "emo-outputs"),
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
    server = AppServer(f"http://127.0.0.1:{port}/", proc, scratch, log, Path(full_env["EMO_OUTPUT_DIR"]))
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
