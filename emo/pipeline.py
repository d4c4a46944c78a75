"""The one-way flow: photo -> face -> audio -> motion -> frames -> video.

`sing` is the single entry point used by the CLI and the app; it knows nothing of either.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from . import audio as audio_mod
from . import motion as motion_mod
from . import outputs, provenance, settings
from .engines import RenderJob, load_engine, resolve
from .errors import Cancelled, EngineUnavailable, UserError
from .face import check_photo, crop_portrait
from .messages import Message
from .separate import separate_voice, separator_name
from .video import write_video

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.1  # frame progress is passed on at most this often
Progress = Callable[[float, str], None]  # (overall fraction 0..1, what is happening)
SIZES = (256, 384, 512, 640, 768)
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class SingOptions:
    engine: str = "auto"  # "auto" or a name in emo.engines.ENGINES
    motion: float = 0.5  # 0 = still head, 1 = lively
    seed: int = 0
    size: int = 512  # side of the square video, pixels
    fps: int = 25
    start: float = 0.0  # the part of the audio to sing, in seconds (or "m:ss" text) ...
    end: float | None = None  # ... to here; None: to the end of the audio
    max_seconds: float | None = None  # longer parts are cut (with a notice); None: the max_seconds setting

    def __post_init__(self):
        if self.max_seconds is None:
            object.__setattr__(self, "max_seconds", settings.current().max_seconds)
        # Values may come straight from a web request: anything but a number of the right kind and range is refused.
        start = parse_time(self.start, "start", default=0.0)
        end = parse_time(self.end, "end", default=None)
        if end is not None and end <= start:
            raise UserError(Message("options.end_before_start", end=clock(end), start=clock(start)))
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        if not _is_number(self.motion) or not 0.0 <= self.motion <= 1.0:
            raise UserError(Message("options.motion", got=quoted(self.motion)))
        if not _is_number(self.seed) or self.seed != int(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise UserError(Message("options.seed", most=MAX_SEED, got=quoted(self.seed)))
        if self.size not in SIZES:
            raise UserError(Message("options.size", sizes=", ".join(map(str, SIZES)), got=quoted(self.size)))
        object.__setattr__(self, "motion", float(self.motion))
        object.__setattr__(self, "seed", int(self.seed))


def parse_time(value, what: str, default):
    """Seconds from a number or from text such as "75", "1:15" or "1:15.5"; empty means `default`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    seconds = value
    if isinstance(value, str) and len(value) <= 16:
        parts = value.strip().split(":")
        try:
            numbers = [float(part) for part in parts]
        except ValueError:
            numbers = None
        if numbers and len(numbers) <= 2 and all(0 <= n < 60 for n in numbers[1:]):
            seconds = numbers[0] * 60 + numbers[1] if len(numbers) == 2 else numbers[0]
    if not _is_number(seconds) or seconds < 0 or seconds > 24 * 3600:
        raise UserError(Message(f"options.{what}_time", got=quoted(value)))
    return float(seconds)


def clock(seconds: float) -> str:
    """75.0 -> "1:15", 75.5 -> "1:15.5", 9.5 -> "9.5 s": times as people write them (seconds in the user's words)."""
    if seconds < 60:
        text = f"{seconds:.1f}"
        return Message("units.seconds", seconds=text[:-2] if text.endswith(".0") else text)
    rest = seconds % 60
    return f"{int(seconds // 60)}:{rest:04.1f}".replace(".0", "") if rest % 1 else f"{int(seconds // 60)}:{rest:02.0f}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def quoted(value) -> str:
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
            raise UserError(Message("audio.no_file", name=path.name))
        return SongInput(path.stem, path, path)
    from .songs import get_song

    preset = get_song(str(song))
    return SongInput(preset.title, preset.mix, preset.vocals)


def silent(progress: Progress | None) -> Progress:
    return progress or (lambda fraction, message: None)


def prepare_audio(song: SongInput, options: SingOptions, notices: list[str], stop: threading.Event | None = None,
                  progress: Callable[[float], None] | None = None) -> audio_mod.AudioFeatures:
    """The chosen part of the song, decoded and analysed; notices say what was cut or separated.

    `progress(fraction)` follows the voice separation, the one long step (seconds for a whole song)."""
    vocals, mix = load_song(song, options, notices, stop, progress)
    return audio_mod.analyse(vocals, mix, fps=options.fps)


def load_song(song: SongInput, options: SingOptions, notices: list[str], stop: threading.Event | None = None,
              progress: Callable[[float], None] | None = None,
              sample_rate: int = audio_mod.SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """(voice, mix) of the chosen part of the song, mono at `sample_rate`: the stem, or the voice separated from
    the mix; notices say what was cut or separated."""
    limit = options.max_seconds
    wanted = limit if options.end is None else min(options.end - options.start, limit)
    mix = audio_mod.load_audio(song.mix, sample_rate, start=options.start, max_seconds=wanted + 0.5, stop=stop)
    if len(mix) == 0 and options.start > 0:
        raise UserError(Message("audio.start_after_end", start=clock(options.start)))
    if len(mix) > wanted * sample_rate:
        mix = mix[: int(wanted * sample_rate)]
        if options.end is None or options.end - options.start > limit:
            notices.append(Message("audio.cut", limit=clock(limit)))
    if song.vocals == song.mix:  # no stem: take the voice out of the music so instruments do not move the mouth
        separator = separator_name()
        try:
            vocals = separate_voice(mix, sample_rate, progress=progress, stop=stop, separator=separator)
        except EngineUnavailable as err:  # the host asked for Demucs and it cannot load: the offline one still can
            log.warning("%s Using spleeter instead.", err)
            separator = "spleeter"
            vocals = separate_voice(mix, sample_rate, progress=progress, stop=stop, separator=separator)
        notices.append(Message("audio.separated", separator=Message(f"separator.{separator}")))
    else:
        vocals = audio_mod.load_audio(song.vocals, sample_rate, start=options.start, max_seconds=wanted, stop=stop)
    return vocals, mix


def sing(photo, song: str | Path, *, engine: str = "auto", motion: float = 0.5, seed: int = 0, size: int = 512,
         start: float | str = 0.0, end: float | str | None = None, out: str | Path | None = None,
         progress: Progress | None = None, stop: threading.Event | None = None) -> SingResult:
    """Make a video of the face in `photo` singing `song` (a preset id or an audio file), from `start` to `end`.

    `photo` is a path, bytes, a PIL image or an RGB array; `start` and `end` are seconds or "m:ss" (None: to the
    end, at most the max_seconds setting). `progress(fraction, message)` is called as work advances. Setting `stop`
    (from another thread) ends the work between two frames: Cancelled is raised and no file is left.
    """
    options = SingOptions(engine=engine, motion=motion, seed=seed, size=size, start=start, end=end)
    report = silent(progress)
    report(0.0, Message("progress.face"))
    rgb, face = check_photo(photo)
    portrait, face = crop_portrait(rgb, face, options.size)
    notices = list(face.notices)

    report(0.04, Message("progress.song"))
    song_in = resolve_song(song)
    features = prepare_audio(song_in, options, notices, stop,
                             lambda done: report(0.04 + 0.04 * done, Message("progress.separating", done=done)))
    plan = motion_mod.plan(features, options.motion, options.seed)

    engine_name = resolve(options.engine)
    report(0.08, Message("progress.engine", engine=engine_name))
    engine = load_engine(engine_name)
    if options.motion != SingOptions.motion and "motion" not in engine.controls:  # asked for, and cannot be had
        notices.append(Message("engine.ignores_motion", engine=engine.name))
    job = RenderJob(portrait=portrait, face=face, audio=features, motion=plan, seed=options.seed,
                    others=face.neighbours)

    frames = checked(engine.render(job, frame_reporter(report, stop)), job)
    out = encode(frames, out, features.fps, features.n_frames, song_in.mix, options.start, engine.name, report)
    return SingResult(out, engine.name, features.duration, features.n_frames, tuple(notices))


def encode(frames: Iterable[np.ndarray], out: str | Path | None, fps: int, n_frames: int, audio: Path,
           audio_start: float, engine_name: str, report: Progress) -> Path:
    """Mark the frames as AI-generated and encode them with `audio` (from `audio_start` s) into `out` (None: a new
    output path); the path."""
    out = Path(out) if out else outputs.new_output_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_video(out, provenance.stamp(frames), fps, n_frames, audio, provenance.metadata(engine_name),
                audio_start=audio_start)
    report(1.0, Message("progress.done"))
    return out


def frame_reporter(report: Progress, stop: threading.Event | None) -> Callable[[int, int], None]:
    """`on_frame(done, total)` for a render: raises Cancelled once `stop` is set, and passes "Animating frame 10/250,
    about 40 s left" on to `report` at most every PROGRESS_EVERY_S (and always for the last frame): a message per
    frame cost more than no one could read."""
    began = time.monotonic()
    shown = began - PROGRESS_EVERY_S

    def on_frame(done: int, total: int) -> None:
        nonlocal shown
        if stop is not None and stop.is_set():
            raise Cancelled()
        now = time.monotonic()
        if now - shown >= PROGRESS_EVERY_S or done == total:
            shown = now
            report(0.1 + 0.88 * done / total, frame_progress(now - began, done, total))
    return on_frame


def frame_progress(elapsed: float, done: int, total: int) -> Message:
    """"Animating frame 10/250, about 40 s left": the time left from the pace so far, once it is worth quoting."""
    if done < 10 or elapsed < 0.3:
        return Message("progress.frame", done=done, total=total)
    left = elapsed * (total - done) / done
    return Message("progress.frame_left", done=done, total=total, left=clock(max(1, round(left))))


def checked(frames: Iterable[np.ndarray], job: RenderJob) -> Iterator[np.ndarray]:
    """Hold every engine to the interface: exactly n_frames RGB uint8 frames of the portrait's size."""
    count = 0
    for frame in frames:
        if frame.shape != job.portrait.shape or frame.dtype != np.uint8:
            raise RuntimeError(f"engine produced a {frame.shape} {frame.dtype} frame, expected {job.portrait.shape}")
        count += 1
        yield frame
    if count != job.n_frames:
        raise RuntimeError(f"engine produced {count} frames, expected {job.n_frames}")
