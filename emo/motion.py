"""Motion: turn per-frame audio features into the weak controls both engines follow.

EMO's lesson is to constrain loosely: the voice decides how far the mouth opens and its shape, the music decides how
*fast* the head moves (a speed level, as EMO's Speed Encoder), and the exact pose is free, drawn from smooth noise
inside a small region around where the head is in the photo.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .audio import AudioFeatures

SPEED_LEVELS = 5  # buckets of head speed, as EMO's Speed Encoder
MAX_OPEN = 0.32  # widest extra inner-lip gap, in inter-ocular distances (a singer's "ah")
BLINKS_PER_MINUTE = 16
BLINK_SHAPE = np.array([0.35, 0.85, 1.0, 0.75, 0.35, 0.1], np.float32)  # ~240 ms, quick close, slower reopen
# Pose range at motion=1, in radians: sideways turn, nod, tilt.
MAX_YAW, MAX_PITCH, MAX_ROLL = np.radians(9.0), np.radians(6.0), np.radians(5.0)


@dataclass(frozen=True)
class MotionPlan:
    """Per-frame controls, each an array of length n_frames."""

    mouth_open: np.ndarray = field(repr=False)  # extra inner-lip gap over the photo's, in inter-ocular units
    mouth_round: np.ndarray = field(repr=False)  # 0..1 lips pulled in (o, u)
    mouth_spread: np.ndarray = field(repr=False)  # 0..1 lips pulled wide (i, e)
    blink: np.ndarray = field(repr=False)  # 0..1 eyelid closure
    yaw: np.ndarray = field(repr=False)  # radians, + turns the face towards the image's right
    pitch: np.ndarray = field(repr=False)  # radians, + nods down
    roll: np.ndarray = field(repr=False)  # radians, + tilts clockwise
    speed: np.ndarray = field(repr=False)  # 0..1 head-speed level
    speed_level: np.ndarray = field(repr=False)  # int bucket 0..SPEED_LEVELS-1


def mouth(audio: AudioFeatures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Opening follows loudness with almost no lag; shapes change more slowly, as lips do."""
    opening = MAX_OPEN * gaussian_filter1d(audio.loudness, 0.6) ** 0.8
    opening[audio.loudness == 0] = np.minimum(opening[audio.loudness == 0], 0.02)  # shut in the gaps
    rounded = gaussian_filter1d(audio.roundness, 1.2)
    spread = gaussian_filter1d(audio.spread, 1.2)
    return opening.astype(np.float32), rounded.astype(np.float32), spread.astype(np.float32)


def blinks(n_frames: int, fps: int, rng: np.random.Generator) -> np.ndarray:
    """Blinks at random, about 16 a minute, never closer than 1.5 s apart."""
    closure = np.zeros(n_frames, np.float32)
    mean_gap = 60.0 / BLINKS_PER_MINUTE
    t = rng.uniform(0.6, mean_gap)
    while True:
        start = int(t * fps)
        if start + len(BLINK_SHAPE) > n_frames:
            return closure
        closure[start:start + len(BLINK_SHAPE)] = BLINK_SHAPE
        t += 1.5 + rng.exponential(mean_gap - 1.5)


def speed(audio: AudioFeatures) -> np.ndarray:
    """Head-speed level 0..1 from how busy and loud the music is over the last half second."""
    busy = gaussian_filter1d(audio.onset, audio.fps * 0.25)
    busy = busy / (busy.max() + 1e-9)
    loud = gaussian_filter1d(audio.energy, audio.fps * 0.5)
    return np.clip(0.15 + 0.85 * busy * (0.4 + 0.6 * loud), 0, 1).astype(np.float32)


def _wander(phase: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise in -1..1 sampled at `phase` (one unit of phase = about one gentle sway)."""
    knots = rng.standard_normal(int(phase[-1]) + 8)
    grid = gaussian_filter1d(knots, 1.0)
    grid /= np.abs(grid).max() + 1e-9
    return np.tanh(1.5 * np.interp(phase, np.arange(len(grid)), grid)) / np.tanh(1.5)


def head(audio: AudioFeatures, level: np.ndarray, motion: float, rng: np.random.Generator):
    """Yaw, pitch, roll: noise whose clock runs with the speed level, plus a small nod on sung beats."""
    phase = np.cumsum(0.25 + 1.6 * level) / audio.fps  # faster music -> the pose wanders faster
    yaw = MAX_YAW * motion * _wander(phase, rng)
    roll = MAX_ROLL * motion * _wander(phase * 0.8, rng)
    pitch = 0.6 * MAX_PITCH * motion * _wander(phase * 1.2, rng)
    nods = (audio.beat & (audio.loudness > 0.2)).astype(np.float32) * audio.onset
    pitch += 0.3 * MAX_PITCH * motion * gaussian_filter1d(nods, 1.5) * np.sqrt(2 * np.pi) * 1.5  # peak = onset
    return yaw.astype(np.float32), pitch.astype(np.float32), roll.astype(np.float32)


def plan(audio: AudioFeatures, motion: float = 0.5, seed: int = 0) -> MotionPlan:
    """The whole motion plan; the same audio, motion and seed give the same plan."""
    rng = np.random.default_rng(seed)
    opening, rounded, spread = mouth(audio)
    level = speed(audio)
    yaw, pitch, roll = head(audio, level, float(np.clip(motion, 0.0, 1.0)), rng)
    return MotionPlan(
        mouth_open=opening, mouth_round=rounded, mouth_spread=spread, blink=blinks(audio.n_frames, audio.fps, rng),
        yaw=yaw, pitch=pitch, roll=roll, speed=level,
        speed_level=np.minimum((level * SPEED_LEVELS).astype(np.int64), SPEED_LEVELS - 1),
    )
