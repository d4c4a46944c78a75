"""Engines turn a prepared job (cropped portrait, face, audio features, motion plan) into video frames.

Both engines share one small interface, ``Engine.render``, and are imported only when first asked for, so that the
CPU path never pays for torch and the app starts fast.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

import numpy as np

from ..errors import EngineUnavailable

if TYPE_CHECKING:
    from ..audio import AudioFeatures
    from ..face import Face
    from ..motion import MotionPlan

# name -> "module:Class"; the module is imported on first use only.
ENGINES = {
    "warp": "emo.engines.warp:WarpEngine",
    "diffusion": "emo.engines.diffusion:DiffusionEngine",
}

Progress = Callable[[int, int], None]  # (frames done, frames total)


@dataclass(frozen=True)
class RenderJob:
    portrait: np.ndarray  # (size, size, 3) uint8 RGB: the square crop around the face
    face: "Face"  # the face in portrait pixels
    audio: "AudioFeatures"  # per-frame features and the 16 kHz waveforms
    motion: "MotionPlan"  # per-frame weak controls: mouth, blinks, head pose, speed level
    seed: int = 0
    others: tuple[np.ndarray, ...] = ()  # landmarks of other faces in the portrait (a group photo): they stay still

    @property
    def n_frames(self) -> int:
        return self.audio.n_frames

    @property
    def fps(self) -> int:
        return self.audio.fps


class Engine(Protocol):
    name: str

    def render(self, job: RenderJob, progress: Progress) -> Iterator[np.ndarray]:
        """Yield exactly ``job.n_frames`` RGB uint8 frames of the portrait's size."""


_loaded: dict[str, Engine] = {}


def _engine_class(name: str):
    module, cls = ENGINES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def resolve(name: str) -> str:
    """Map "auto" to a concrete engine: diffusion when it can run here right now, else the CPU engine."""
    if name == "auto":
        return "diffusion" if _engine_class("diffusion").unavailable_reason(auto=True) is None else "warp"
    if name not in ENGINES:
        raise EngineUnavailable(f"Unknown engine '{name}'. Choose one of: auto, {', '.join(ENGINES)}.")
    return name


def load_engine(name: str = "auto") -> Engine:
    """Return a ready engine (cached), raising EngineUnavailable with the reason when it cannot run here."""
    name = resolve(name)
    if name not in _loaded:
        cls = _engine_class(name)
        reason = cls.unavailable_reason(auto=False)
        if reason:
            raise EngineUnavailable(reason)
        _loaded[name] = cls.load()
    return _loaded[name]
