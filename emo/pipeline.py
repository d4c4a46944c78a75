"""The one-way flow: photo -> face -> audio -> motion -> frames -> video.

`sing` is the single entry point used by the CLI and the app; it knows nothing of either.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import audio as audio_mod
from . import motion as motion_mod
from . import outputs, provenance
from .engines import RenderJob, load_engine, resolve
from .errors import Cancelled, UserError
from .face import check_photo, crop_portrait
from .separate import separate_voice
from .video import write_video

Progress = Callable[[float, str], None]  # (overall fraction 0..1, what is happening)
SIZES = (256, 384, 512, 640, 768)
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class SingOptions:
    engine: str = "auto"  # auto | warp | diffusion
    motion: float = 0.5  # 0 = still head, 1 = lively
    seed: int = 0
    size: int = 512  # side of the square video, pixels
    fps: int = 25
    max_seconds: float = audio_mod.MAX_SECONDS  # longer uploads are trimmed (with a notice)

    def __post_init__(self):
        # Values may come straight from a web request: anything but a number of the right kind and range is refused.
        if not _is_number(self.motion) or not 0.0 <= self.motion <= 1.0:
            raise UserError(f"Head motion must be a number from 0 to 1 (got {_shown(self.motion)}).")
        if not _is_number(self.seed) or self.seed != int(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise UserError(f"The seed must be a whole number from 0 to {MAX_SEED} (got {_shown(self.seed)}).")
        if self.size not in SIZES:
            raise UserError(f"Video size must be one of {', '.join(map(str, SIZES))} pixels (got {_shown(self.size)}).")
        object.__setattr__(self, "motion", float(self.motion))
        object.__setattr__(self, "seed", int(self.seed))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value) -> str:
    """A value as a message may quote it: short, whatever was sent."""
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


@dataclass(frozen=True)
class SongInput:
    """What to sing: the file muxed into the video and the voice that drives the mouth."""

    title: str
    mix: Path
    vocals: Path  # the vocal stem; the mix itself when there is none


@dataclass(frozen=True)
class SingResult:
    video: Path
    engine: str
    seconds: float
    frames: int
    notices: tuple[str, ...] = field(default=())


def resolve_song(song: str | Path) -> SongInput:
    """A preset id from the library, or a path to an audio file of the user's own (a Path, or a str that looks like one)."""
    path = Path(song)
    if isinstance(song, Path) or path.suffix or "/" in str(song):
        if not path.is_file():
            raise UserError(f"The audio file '{path.name}' does not exist.")
        return SongInput(path.stem, path, path)
    from .songs import get_song

    preset = get_song(str(song))
    return SongInput(preset.title, preset.mix, preset.vocals)


def _silent(progress: Progress | None) -> Progress:
    return progress or (lambda fraction, message: None)


def prepare_audio(song: SongInput, options: SingOptions, notices: list[str],
                  stop: threading.Event | None = None) -> audio_mod.AudioFeatures:
    limit = options.max_seconds
    mix = audio_mod.load_audio(song.mix, max_seconds=limit + 0.5, stop=stop)
    if len(mix) > limit * audio_mod.SAMPLE_RATE:
        notices.append(f"The audio is longer than {limit:.0f} s, so only its first {limit:.0f} s are used.")
        mix = mix[: int(limit * audio_mod.SAMPLE_RATE)]
    if song.vocals == song.mix:  # no stem: take the voice out of the music so instruments do not move the mouth
        vocals = separate_voice(mix)
        notices.append("The voice was separated from the music automatically, so the mouth follows the singing.")
    else:
        vocals = audio_mod.load_audio(song.vocals, max_seconds=limit, stop=stop)
    return audio_mod.analyse(vocals, mix, fps=options.fps)


def sing(photo, song: str | Path, *, engine: str = "auto", motion: float = 0.5, seed: int = 0, size: int = 512,
         out: str | Path | None = None, progress: Progress | None = None,
         stop: threading.Event | None = None) -> SingResult:
    """Make a video of the face in `photo` singing `song` (a preset id or an audio file).

    `photo` is a path, bytes, a PIL image or an RGB array. `progress(fraction, message)` is called as work advances.
    Setting `stop` (from another thread) ends the work between two frames: Cancelled is raised and no file is left.
    """
    options = SingOptions(engine=engine, motion=motion, seed=seed, size=size)
    report = _silent(progress)
    report(0.0, "Checking the face")
    rgb, face = check_photo(photo)
    portrait, face = crop_portrait(rgb, face, options.size)
    notices = list(face.notices)

    report(0.04, "Analysing the song")
    song_in = resolve_song(song)
    features = prepare_audio(song_in, options, notices, stop)
    plan = motion_mod.plan(features, options.motion, options.seed)

    engine_name = resolve(options.engine)
    report(0.08, f"Loading the {engine_name} engine")
    engine = load_engine(engine_name)
    job = RenderJob(portrait=portrait, face=face, audio=features, motion=plan, seed=options.seed)

    def on_frame(done: int, total: int) -> None:
        if stop is not None and stop.is_set():
            raise Cancelled()
        report(0.1 + 0.88 * done / total, f"Animating frame {done}/{total}")

    out = Path(out) if out else outputs.new_output_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    frames = provenance.stamp(_checked(engine.render(job, on_frame), job))
    write_video(out, frames, features.fps, features.n_frames, song_in.mix, provenance.metadata(engine.name))
    report(1.0, "Done")
    return SingResult(out, engine.name, features.duration, features.n_frames, tuple(notices))


def _checked(frames, job: RenderJob):
    """Hold every engine to the interface: exactly n_frames RGB uint8 frames of the portrait's size."""
    count = 0
    for frame in frames:
        if frame.shape != job.portrait.shape or frame.dtype != np.uint8:
            raise RuntimeError(f"engine produced a {frame.shape} {frame.dtype} frame, expected {job.portrait.shape}")
        count += 1
        yield frame
    if count != job.n_frames:
        raise RuntimeError(f"engine produced {count} frames, expected {job.n_frames}")
