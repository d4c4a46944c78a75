"""Speed of the CPU path, as a user meets it: whole-process `python -m emo sing` and the app's cold start.

    .venv/bin/python benchmarks/speed.py [--runs 5]

Prints medians over several runs and the ratio of generation time to clip length (lower is better; 1.0 = real time).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emo.songs import list_songs  # noqa: E402


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_cold_start(timeout: float = 120.0) -> float:
    """Seconds from `python app.py` to the page answering on 127.0.0.1."""
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), EMO_ENGINE="warp",
               GRADIO_ANALYTICS_ENABLED="False")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the app did not answer in time")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--photo", default=str(ROOT / "examples" / "eileen_collins.jpg"))
    args = parser.parse_args()

    song = min(list_songs(), key=lambda s: abs(s.duration - 10.0))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "emo", "sing", args.photo, song.id, "-o", f"{tmp}/out.mp4", "--engine", "warp",
               "-q"]
        timed(cmd)  # warm the disk cache, as a second user would find it
        sing = [timed(cmd) for _ in range(args.runs)]
    starts = [app_cold_start() for _ in range(args.runs)]

    med = statistics.median(sing)
    print(f"python -m emo sing, '{song.id}' ({song.duration:.2f} s clip), 512x512, {args.runs} runs, {os.cpu_count()} cores")
    print(f"  median {med:.2f} s  (min {min(sing):.2f}, max {max(sing):.2f})  ratio to clip {med / song.duration:.3f}")
    print(f"app cold start to ready, {args.runs} runs")
    print(f"  median {statistics.median(starts):.2f} s  (min {min(starts):.2f}, max {max(starts):.2f})")


if __name__ == "__main__":
    main()
