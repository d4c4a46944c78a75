"""Video: stream RGB frames and the song into an H.264 + AAC mp4 that every browser plays."""
from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path
from typing import Iterable

import numpy as np

from .audio import ffmpeg_exe


def _encoder(partial: Path, first: np.ndarray, fps: int, seconds: float, audio: Path,
             metadata: dict[str, str]) -> subprocess.Popen:
    h, w = first.shape[:2]
    tags = [arg for key, value in metadata.items() for arg in ("-metadata", f"{key}={value}")]
    cmd = [ffmpeg_exe(), "-v", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
           "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "160k", "-t", f"{seconds:.3f}", "-movflags", "+faststart", *tags, str(partial)]
    # A plain Popen: a preexec_fn (as imageio-ffmpeg's writer uses) runs Python between fork and exec, which can
    # hang the child when another request's thread holds a lock at that moment.
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: int, n_frames: int, audio: str | Path,
                metadata: dict[str, str] | None = None) -> Path:
    """Encode `frames` with the audio track cut to the same length; the file appears only when complete.

    Frames are piped to ffmpeg as they are rendered, so encoding runs on the second core alongside the engine.
    """
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial.mp4")
    frames = iter(frames)
    proc = None
    try:
        first = next(frames, None)
        if first is None:
            raise ValueError("no frames to encode")
        proc = _encoder(partial, first, fps, n_frames / fps, Path(audio), metadata or {})
        try:
            for frame in itertools.chain([first], frames):
                proc.stdin.write(np.ascontiguousarray(frame, np.uint8).data)
        except BrokenPipeError:
            pass  # ffmpeg stopped early; its own message follows
        proc.stdin.close()
        error = proc.stderr.read().decode(errors="replace").strip()
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed: {error}")
        os.replace(partial, path)
        return path
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        partial.unlink(missing_ok=True)

