"""Video: stream RGB frames and the song into an H.264 + AAC mp4 that every browser plays."""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from . import ffmpeg

STALL_S = 120.0  # the encoder is killed when no frame arrives for this long (a GPU window takes seconds, not minutes)
FINISH_S, FINISH_S_PER_S = 30.0, 0.5  # time allowed to finish once the last frame is in: fixed + per second of video
# Seconds between keyframes. Each keyframe re-encodes the still background, its grain differently (x264's default
# 10 s made a still backdrop jump 2 grey levels every 10 s); a browser seeking decodes at most this much from the
# last keyframe, a fraction of a second at these sizes.
KEYFRAME_S = 20


def share_cores_with_the_encoder() -> None:
    """OpenCV on one thread, for a process that renders frames while ffmpeg encodes them: OpenCV's own threads would
    only fight the encoder for the cores (a 3-minute song rendered and encoded on 2 cores: 21.2 s with OpenCV's 2
    threads, 18.7 s with one).

    Call it as the process starts (the app, the command line), never in a child forked after OpenCV's threads ran
    (ZeroGPU runs each job in a child forked from the server): there it would wait forever for the pool's threads,
    which a forked child does not have. Children forked after it inherit the one thread.
    """
    cv2.setNumThreads(1)


def _encoder_args(partial: Path, size: tuple[int, int], fps: int, seconds: float, audio: Path,
                  metadata: dict[str, str], start: float = 0.0, pixels: str = "yuv420p") -> list[str]:
    """ffmpeg's arguments to encode raw frames of `size` (height, width) in `pixels` format from its input pipe."""
    h, w = size
    tags = [arg for key, value in metadata.items() for arg in ("-metadata", f"{key}={value}")]
    return ["-v", "error", "-y", "-protocol_whitelist", "file,pipe",
            "-f", "rawvideo", "-pix_fmt", pixels, "-s", f"{w}x{h}", "-r", str(fps), "-i", "pipe:0",
            "-ss", f"{start:.3f}", "-i", f"file:{audio.resolve()}", "-map", "0:v:0", "-map", "1:a:0",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-g", str(fps * KEYFRAME_S), "-pix_fmt", "yuv420p",
            "-colorspace", "smpte170m", "-color_range", "tv",  # (what the frames are: see write_video)
            "-c:a", "aac", "-b:a", "160k", "-t", f"{seconds:.3f}", "-movflags", "+faststart", *tags,
            f"file:{partial.resolve()}"]


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: int, n_frames: int, audio: str | Path,
                metadata: dict[str, str] | None = None, audio_start: float = 0.0) -> Path:
    """Encode `frames` with the audio (from `audio_start` s) cut to the same length; the file appears only when
    complete.

    Frames are piped to ffmpeg as they are rendered, so encoding runs on the second core alongside the engine. If
    anything fails or the frames stop coming (the job was cancelled), ffmpeg is killed and no file is left.
    Frames go in as the encoder's own YUV 4:2:0 (BT.601, limited range, as ffmpeg's own conversion makes it):
    OpenCV converts a frame in 0.2 ms where ffmpeg's converter took 0.8 ms, and half the bytes cross the pipe. The
    stream says so: untagged, browsers take video 720 lines high or more for BT.709 (Chrome), and a 768 video's
    colours shifted there.
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
        size = first.shape[:2]
        writer = ffmpeg.Writer(_encoder_args(partial, size, fps, seconds, Path(audio), metadata or {}, audio_start),
                               stall_s=STALL_S, finish_s=FINISH_S + FINISH_S_PER_S * seconds)
        try:
            for frame in itertools.chain([first], frames):
                if frame.shape[:2] != size:
                    raise ValueError(f"frame of {frame.shape[:2]} in a video of {size}")
                # A new array each frame: the writer may hold it until ffmpeg takes it.
                writer.write(cv2.cvtColor(np.ascontiguousarray(frame, np.uint8), cv2.COLOR_RGB2YUV_I420))
        except BrokenPipeError:
            pass  # ffmpeg stopped early; finish() reports why
        writer.finish()
        os.replace(partial, path)
        return path
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
