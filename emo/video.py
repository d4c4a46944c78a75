"""Video: stream RGB frames and the song into an H.264 + AAC mp4 that every browser plays."""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from . import ffmpeg

STALL_S = 120.0  # the encoder is killed when no frame arrives for this long (a GPU window takes seconds, not minutes)
FINISH_S, FINISH_S_PER_S = 30.0, 0.5  # time allowed to finish once the last frame is in: fixed + per second of video


def _encoder_args(partial: Path, first: np.ndarray, fps: int, seconds: float, audio: Path,
                  metadata: dict[str, str], start: float = 0.0) -> list[str]:
    h, w = first.shape[:2]
    tags = [arg for key, value in metadata.items() for arg in ("-metadata", f"{key}={value}")]
    return ["-v", "error", "-y", "-protocol_whitelist", "file,pipe",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "pipe:0",
            "-ss", f"{start:.3f}", "-i", f"file:{audio.resolve()}", "-map", "0:v:0", "-map", "1:a:0",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "160k", "-t", f"{seconds:.3f}", "-movflags", "+faststart", *tags,
            f"file:{partial.resolve()}"]


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: int, n_frames: int, audio: str | Path,
                metadata: dict[str, str] | None = None, audio_start: float = 0.0) -> Path:
    """Encode `frames` with the audio (from `audio_start` s) cut to the same length; the file appears only when
    complete.

    Frames are piped to ffmpeg as they are rendered, so encoding runs on the second core alongside the engine. If
    anything fails or the frames stop coming (the job was cancelled), ffmpeg is killed and no file is left.
    """
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial.mp4")
    frames = iter(frames)
    writer = None
    try:
        first = next(frames, None)
        if first is None:
            raise ValueError("no frames to encode")
        seconds = n_frames / fps
        writer = ffmpeg.Writer(_encoder_args(partial, first, fps, seconds, Path(audio), metadata or {}, audio_start),
                               stall_s=STALL_S, finish_s=FINISH_S + FINISH_S_PER_S * seconds)
        try:
            for frame in itertools.chain([first], frames):
                writer.write(np.ascontiguousarray(frame, np.uint8).data)
        except BrokenPipeError:
            pass  # ffmpeg stopped early; finish() reports why
        writer.finish()
        os.replace(partial, path)
        return path
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
