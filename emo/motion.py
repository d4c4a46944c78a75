"""Motion: turn per-frame audio features into the weak controls an engine may follow (the warp engine does).

EMO's lesson is to constrain loosely: the voice decides how far the mouth opens and its shape, the music decides how
*fast* the head moves (a speed, as EMO's Speed Encoder gives), and the exact pose is free, drawn from smooth noise
inside a small region around where the head is in the photo.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .audio import AudioFeatures

MAX_OPEN = 0.26  # widest extra inner-lip gap, in inter-ocular distances (a singer's "ah" over closed lips)
SPOKEN_OPEN = 0.65  # share of it a speaker's loudest vowels open: speech drops the jaw far less than song, where
# open vowels open wider still as the pitch rises (Sundberg and Skoog 1997); two thirds, judged by eye on real speech
BLINK_EVERY = 3.6  # seconds between blinks the gaps are drawn towards (about 16 a minute)
BLINK_GAP = (2.4, 5.0)  # seconds between blinks at the least and at most (25 and 12 a minute)
BLINK_STEER = 0.5  # cost of a gap 1 s off BLINK_EVERY, against about 3 for a blink over a full voice
BLINK_FIRST = (0.4, 3.6)  # seconds before the first: any time within a usual gap
BLINK_SHAPE = np.array([0.35, 0.85, 1.0, 0.75, 0.35, 0.1], np.float32)  # ~240 ms, quick close, slower reopen
# Pose range at motion=1, in radians: sideways turn, nod, tilt.
MAX_YAW, MAX_PITCH, MAX_ROLL = np.radians(9.0), np.radians(6.0), np.radians(5.0)
PULL = 1.0  # how strongly the pose path turns back towards the photo's pose (see _drift)
GAZE_HOLD = (1.2, 4.0)  # seconds the eyes rest on one point
BROW_LOUD = 0.6  # voice loudness (0..1) that counts towards a held note


@dataclass(frozen=True)
class MotionPlan:
    """Per-frame controls, each an array of length n_frames."""

    mouth_open: np.ndarray = field(repr=False)  # inner-lip gap beyond the mouth at rest, inter-ocular units
    mouth_round: np.ndarray = field(repr=False)  # 0..1 lips pulled in (o, u)
    mouth_spread: np.ndarray = field(repr=False)  # 0..1 lips pulled wide (i, e)
    blink: np.ndarray = field(repr=False)  # 0..1 eyelid closure
    yaw: np.ndarray = field(repr=False)  # radians, + turns the face towards the image's right
    pitch: np.ndarray = field(repr=False)  # radians, + nods down
    roll: np.ndarray = field(repr=False)  # radians, + tilts clockwise
    gaze: np.ndarray = field(repr=False)  # -1..1: the eyes look to the image's left .. right
    brow: np.ndarray = field(repr=False)  # 0..1: brows raised, on held loud notes


def mouth(audio: AudioFeatures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Opening follows loudness with almost no lag, wider for song than for speech; shapes change more slowly, as lips
    do."""
    widest = MAX_OPEN * (SPOKEN_OPEN + (1 - SPOKEN_OPEN) * audio.sung)
    opening = widest * gaussian_filter1d(audio.loudness, 0.6) ** 0.8
    opening[audio.loudness == 0] = np.minimum(opening[audio.loudness == 0], 0.02)  # shut in the gaps
    rounded = gaussian_filter1d(audio.roundness, 1.2)
    spread = gaussian_filter1d(audio.spread, 1.2)
    return opening.astype(np.float32), rounded.astype(np.float32), spread.astype(np.float32)


def blinks(audio: AudioFeatures, rng: np.random.Generator) -> np.ndarray:
    """Blinks, 12-20 a minute, placed where the voice rests.

    Singers blink in the breaths between phrases, and shut lids over a wide-open mouth is the face least like the
    photo, so the blinks are chosen together (dynamic programming over their start frames): as little voice under
    shut lids as possible, with gaps within BLINK_GAP and drawn towards BLINK_EVERY, which keeps every clip within a
    natural 10-25 a minute. The seed adds a little noise, so where the voice does not decide, seeds differ.
    """
    fps, n, span = audio.fps, audio.n_frames, len(BLINK_SHAPE)
    closure = np.zeros(n, np.float32)
    if n < span:
        return closure
    # Voice under a blink starting at each frame, weighted by how shut the lids are; plus the seed's noise.
    cost = np.correlate(audio.loudness, BLINK_SHAPE, mode="valid") + rng.uniform(0, 0.05, n - span + 1)
    starts = len(cost)
    lo, hi = int(BLINK_GAP[0] * fps), int(BLINK_GAP[1] * fps)
    gap_cost = BLINK_STEER * ((np.arange(lo, hi + 1) - BLINK_EVERY * fps) / fps) ** 2
    total = np.full(starts, np.inf)  # cheapest plan whose latest blink starts at each frame
    before = np.full(starts, -1)
    first = slice(int(BLINK_FIRST[0] * fps), min(int(BLINK_FIRST[1] * fps) + 1, starts))
    total[first] = cost[first]
    for s in range(starts - lo):
        if np.isfinite(total[s]):
            reach = slice(s + lo, min(s + hi + 1, starts))
            via = total[s] + gap_cost[:reach.stop - reach.start] + cost[reach]
            better = via < total[reach]
            total[reach] = np.where(better, via, total[reach])
            before[reach] = np.where(better, s, before[reach])
    total[n - np.arange(starts) > hi] = np.inf  # no blink-free tail longer than the longest gap
    if not np.isfinite(total).any():  # a clip too short for its first blink
        return closure
    s = int(np.argmin(total))
    while s >= 0:
        closure[s:s + span] = BLINK_SHAPE
        s = int(before[s])
    return closure


def speed(audio: AudioFeatures) -> np.ndarray:
    """Head-speed level 0..1 from how busy and loud the music is over the last half second."""
    busy = gaussian_filter1d(audio.onset, audio.fps * 0.25)
    busy = busy / (busy.max() + 1e-9)
    loud = gaussian_filter1d(audio.energy, audio.fps * 0.5)
    return np.clip(0.15 + 0.85 * busy * (0.4 + 0.6 * loud), 0, 1).astype(np.float32)


def _drift(rate: np.ndarray, rng: np.random.Generator, fps: int) -> np.ndarray:
    """(n, 3) pose path in -1..1 that moves at exactly `rate` (units per frame) in a slowly turning direction.

    The direction is smooth noise (it turns over about a second) bent back towards the photo's pose the further the
    path strays, so the head roams a small region while its speed is set by the music alone.
    """
    heading = gaussian_filter1d(rng.standard_normal((len(rate), 3)), 0.6 * fps, axis=0)
    heading /= np.linalg.norm(heading, axis=1, keepdims=True) + 1e-9
    pose, path = np.zeros(3), np.empty((len(rate), 3))
    for i, (step, ahead) in enumerate(zip(rate, heading)):
        direction = ahead - PULL * pose * np.dot(pose, pose)
        pose = pose + step * direction / (np.linalg.norm(direction) + 1e-9)
        path[i] = pose
    return np.tanh(path)


def head(audio: AudioFeatures, level: np.ndarray, motion: float, rng: np.random.Generator):
    """Yaw, pitch, roll: a drift whose speed follows the speed level, plus a small nod on sung beats."""
    path = _drift((0.25 + 1.6 * level) / audio.fps, rng, audio.fps)
    yaw = MAX_YAW * motion * path[:, 0]
    pitch = 0.6 * MAX_PITCH * motion * path[:, 1]
    roll = MAX_ROLL * motion * path[:, 2]
    nods = (audio.beat & (audio.loudness > 0.2)).astype(np.float32) * audio.onset
    sigma = 2.5  # frames: a nod takes about a quarter second, smooth enough to read as motion, not a twitch
    pitch += 0.3 * MAX_PITCH * motion * gaussian_filter1d(nods, sigma) * np.sqrt(2 * np.pi) * sigma  # peak = onset
    return yaw.astype(np.float32), pitch.astype(np.float32), roll.astype(np.float32)


def gaze(n_frames: int, fps: int, rng: np.random.Generator) -> np.ndarray:
    """Where the eyes look: still for GAZE_HOLD seconds at a time, then a quick move (a saccade, three frames) to
    a new point, back to the camera about half the time."""
    out = np.zeros(n_frames, np.float32)
    at, target = 0, 0.0
    while at < n_frames:
        hold = int(rng.uniform(*GAZE_HOLD) * fps)
        previous, target = target, 0.0 if rng.random() < 0.5 else float(rng.uniform(-0.8, 0.8))
        ramp = np.minimum(np.arange(hold) / 3.0, 1.0)
        out[at:at + hold] = (previous + (target - previous) * ramp * ramp * (3 - 2 * ramp))[: n_frames - at]
        at += hold
    return out


def brows(audio: AudioFeatures) -> np.ndarray:
    """Brows rise on held loud notes: the voice loud (over BROW_LOUD) for over half a second, easing in and out."""
    loud = audio.loudness > BROW_LOUD
    run = np.zeros(len(loud), np.float32)
    for i in range(1, len(loud)):  # how long the voice has been loud, seconds
        run[i] = run[i - 1] + 1 / audio.fps if loud[i] else 0.0
    held = np.clip((run - 0.5) / 0.4, 0, 1)
    return np.clip(gaussian_filter1d(held, 0.25 * audio.fps), 0, 1).astype(np.float32)


def plan(audio: AudioFeatures, motion: float = 0.5, seed: int = 0) -> MotionPlan:
    """The whole motion plan; the same audio, motion and seed give the same plan."""
    rng = np.random.default_rng(seed)
    opening, rounded, spread = mouth(audio)
    yaw, pitch, roll = head(audio, speed(audio), float(np.clip(motion, 0.0, 1.0)), rng)
    return MotionPlan(
        mouth_open=opening, mouth_round=rounded, mouth_spread=spread, blink=blinks(audio, rng),
        yaw=yaw, pitch=pitch, roll=roll,
        gaze=gaze(audio.n_frames, audio.fps, np.random.default_rng([seed, 1])), brow=brows(audio),
    )
