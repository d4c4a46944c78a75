"""Engines turn a prepared job (cropped portrait, face, audio features, motion plan) into video frames.

Every engine is a class that states all it provides (``Engine`` below). ``ENGINES`` names them; a module is imported
only when its engine is first asked for, and an engine module imports its heavy packages (torch...) only when asked
whether it can run or to load, so that the CPU path never pays for torch and the app starts fast. Adding an engine is one module and one line here:
"auto", the CLI's ``--engine`` choices and the app's wait and controls follow from the class.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterator, Protocol

from ..errors import EngineUnavailable
from ..messages import Message

if TYPE_CHECKING:
    import numpy as np

    from ..audio import AudioFeatures
    from ..face import Face
    from ..motion import MotionPlan

# name -> "module:Class"; the module is imported on first use only.
ENGINES = {
    "warp": "emo.engines.warp:WarpEngine",
    "diffusion": "emo.engines.diffusion:DiffusionEngine",
}

Progress = Callable[[int, int], None]  # (frames done, frames total)
CONTROLS = frozenset({"motion", "seed"})  # what a user may set that an engine can follow (see Engine.controls)


@dataclass(frozen=True)
class RenderJob:
    portrait: "np.ndarray"  # (size, size, 3) uint8 RGB: the square crop around the face
    face: "Face"  # the face in portrait pixels
    audio: "AudioFeatures"  # per-frame features and the 16 kHz waveforms
    motion: "MotionPlan"  # per-frame weak controls: mouth, blinks, gaze, brows, head pose
    seed: int = 0
    others: tuple["np.ndarray", ...] = ()  # landmarks of other faces in the portrait (a group photo): they stay still

    @property
    def n_frames(self) -> int:
        return self.audio.n_frames

    @property
    def fps(self) -> int:
        return self.audio.fps


@dataclass(frozen=True)
class Cost:
    """Seconds an engine takes to make a video: a fixed part (loading, per-video set-up) plus a part per second."""

    fixed_s: float
    per_second_s: float

    def seconds(self, video_s: float) -> float:
        return self.fixed_s + self.per_second_s * video_s


class Engine(Protocol):
    """What an engine provides. Everything but `render` is read from the class, before anything heavy loads."""

    name: ClassVar[str]
    controls: ClassVar[frozenset[str]]  # which of CONTROLS it follows; the app hides the others
    cost: ClassVar[Cost]  # for the wait shown to users
    preference: ClassVar[int]  # "auto" takes the available engine with the highest

    @classmethod
    def unavailable_reason(cls, auto: bool) -> str | None:
        """None when it can run here; else one sentence for the user (a `messages.Message`). With auto, nothing may
        be downloaded. It may import what it needs to look (the diffusion engine asks torch for a GPU)."""

    @classmethod
    def load(cls) -> "Engine":
        """The ready engine (models in memory); raises EngineUnavailable with a sentence when it cannot be had."""

    def render(self, job: RenderJob, progress: Progress) -> Iterator["np.ndarray"]:
        """Yield exactly ``job.n_frames`` RGB uint8 frames of the portrait's size, calling progress as it goes."""


_loaded: dict[str, Engine] = {}


def engine_class(name: str) -> type[Engine]:
    """The class of a registered engine, or of the one "auto" picks (importing its module, which stays light)."""
    module, cls = ENGINES[resolve(name)].split(":")
    return getattr(importlib.import_module(module), cls)


def resolve(name: str) -> str:
    """Map "auto" to a concrete engine: the most preferred one that can run here right now without a download."""
    if name != "auto":
        return _known(name)
    for candidate in sorted(ENGINES, key=lambda known: -engine_class(known).preference):
        if engine_class(candidate).unavailable_reason(auto=True) is None:
            return candidate
    raise RuntimeError("no registered engine can run here: one of them must always be available")


def _known(name: str) -> str:
    if name not in ENGINES:
        raise EngineUnavailable(Message("engine.unknown", name=str(name)[:40], choices=", ".join(["auto", *ENGINES])))
    return name


def load_engine(name: str = "auto") -> Engine:
    """Return a ready engine (cached), raising EngineUnavailable with the reason when it cannot run here."""
    name = resolve(name)
    if name not in _loaded:
        cls = engine_class(name)
        reason = cls.unavailable_reason(auto=False)
        if reason:
            raise EngineUnavailable(reason)
        _loaded[name] = cls.load()
    return _loaded[name]
