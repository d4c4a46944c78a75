"""The ffmpeg binary (shipped inside imageio-ffmpeg, so no system ffmpeg is needed), run with bounds.

Every ffmpeg we start runs in its own process group and is killed with that whole group when its time is up, when
the caller fails, or when the job is stopped (`stop` set): no child outlives the job that started it.
"""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from functools import lru_cache

from .errors import Cancelled

POLL_S = 0.1  # how often a wait looks at `stop`


class FfmpegError(RuntimeError):
    """ffmpeg exited with an error, or ran past its time."""


@lru_cache(maxsize=1)
def exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def start(args: list[str], stdin: bool = False) -> subprocess.Popen:
    """ffmpeg with `args` in a new process group; stdout and stderr are pipes."""
    # A plain Popen with no preexec_fn: Python code between fork and exec can hang the child when another request's
    # thread holds a lock at that moment. start_new_session is done by the C fork helper, not by Python.
    return subprocess.Popen([exe(), *args], stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def kill(proc: subprocess.Popen) -> None:
    """Kill the process and its whole group, and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # exited between poll and kill
            pass
    proc.wait()


def run(args: list[str], timeout: float, stop: threading.Event | None = None) -> bytes:
    """Run ffmpeg to its end and return what it wrote to stdout.

    Raises FfmpegError when it fails or runs longer than `timeout` seconds, Cancelled when `stop` is set first.
    """
    proc = start(args)
    deadline = time.monotonic() + timeout
    try:
        chunks: tuple[bytes, bytes] | None = None
        while chunks is None:
            if stop is not None and stop.is_set():
                raise Cancelled()
            if time.monotonic() > deadline:
                raise FfmpegError(f"ffmpeg ran past its {timeout:.0f} s limit")
            try:
                chunks = proc.communicate(timeout=POLL_S)  # retrying after a timeout loses no output
            except subprocess.TimeoutExpired:
                pass
        out, err = chunks
        if proc.returncode != 0:
            raise FfmpegError(err.decode(errors="replace").strip()[-500:] or f"exit status {proc.returncode}")
        return out
    finally:
        kill(proc)


class Writer:
    """ffmpeg reading from a pipe (the video encoder), watched: killed if it takes no input for `stall_s` seconds,
    or if it does not finish within `finish_s` seconds once the input ends.

    Writes are handed to a thread through a short queue, so the caller renders the next frames while ffmpeg is
    still taking the last ones (a pipe holds only 64 KiB; a frame is much more)."""

    QUEUE = 4  # frames in flight

    def __init__(self, args: list[str], stall_s: float, finish_s: float):
        self.proc = start(args, stdin=True)
        self.finish_s = finish_s
        self._stall_s = stall_s
        self._last = time.monotonic()
        self._done = threading.Event()
        self._queue: queue.Queue = queue.Queue(self.QUEUE)
        self._failed: BaseException | None = None
        threading.Thread(target=self._watch, daemon=True, name="ffmpeg-watchdog").start()
        self._feeder = threading.Thread(target=self._feed, daemon=True, name="ffmpeg-feeder")
        self._feeder.start()

    def _watch(self) -> None:
        while not self._done.wait(1.0):
            if time.monotonic() - self._last > self._stall_s:
                kill(self.proc)
                return

    def _feed(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._failed is None:
                try:
                    self.proc.stdin.write(data)
                except (BrokenPipeError, ValueError, OSError) as err:  # ffmpeg ended or was killed
                    self._failed = err

    def write(self, data) -> None:
        """Queue `data` for ffmpeg (it is written later: the caller must not change it); BrokenPipeError once ffmpeg
        has stopped taking input."""
        if self._failed is not None:
            raise BrokenPipeError(str(self._failed))
        self._last = time.monotonic()
        self._queue.put(data)

    def finish(self) -> None:
        """Close the input and wait for ffmpeg to end; FfmpegError if it fails or takes too long."""
        self._queue.put(None)
        self._feeder.join()
        self._done.set()
        try:
            _, err = self.proc.communicate(timeout=self.finish_s)  # closes the input first
        except subprocess.TimeoutExpired:
            raise FfmpegError(f"ffmpeg did not finish within {self.finish_s:.0f} s") from None
        if self.proc.returncode != 0:
            raise FfmpegError(err.decode(errors="replace").strip()[-500:] or f"exit status {self.proc.returncode}")

    def close(self) -> None:
        self._done.set()
        kill(self.proc)  # a feeder blocked on the pipe fails now, drains the queue and ends on this None
        self._queue.put(None)
        self._feeder.join()
