"""Video: stream RGB frames and the song into an H.264 + AAC mp4 that every browser plays."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: int, n_frames: int, audio: str | Path,
                metadata: dict[str, str] | None = None) -> Path:
    """Encode `frames` with the audio track cut to the same length; the file appears only when complete.

    Frames are piped to ffmpeg as they are rendered, so encoding runs on the second core alongside the engine.
    """
    import imageio_ffmpeg

    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial.mp4")
    writer = None
    try:
        for frame in frames:
            if writer is None:
                h, w = frame.shape[:2]
                writer = imageio_ffmpeg.write_frames(
                    str(partial), (w, h), fps=fps, codec="libx264", quality=None, pix_fmt_out="yuv420p",
                    macro_block_size=1, audio_path=str(audio), audio_codec="aac", ffmpeg_log_level="error",
                    output_params=["-preset", "veryfast", "-crf", "20", "-movflags", "+faststart",
                                   "-t", f"{n_frames / fps:.3f}", "-b:a", "160k",
                                   *[arg for key, value in (metadata or {}).items() for arg in ("-metadata", f"{key}={value}")]],
                )
                writer.send(None)
            writer.send(np.ascontiguousarray(frame))
        if writer is None:
            raise ValueError("no frames to encode")
        writer.close()
        writer = None
        os.replace(partial, path)
        return path
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
