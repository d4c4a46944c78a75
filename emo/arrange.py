"""Arrangements: who sings what when several faces sing one song.

- together: every face sings everything;
- turns: the song's phrases (found from the voice's rests) go to the faces in order; the others listen, mouths
  shut, their heads calmer;
- round: each face enters a set number of beats after the one before, and the track becomes a real round (the
  voice delayed and mixed over the accompaniment), so what is heard matches every mouth;
- voices: each face sings its own clip; the clips are mixed into one track.

Everything here works on arrays (per-frame features, waveforms); `together.py` decodes and renders.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .audio import AudioFeatures, fitted
from .motion import MotionPlan

ARRANGEMENTS = ("together", "turns", "round", "voices")
REST_S = 0.2  # a silence in the voice at least this long ends a phrase (a breath between phrases)
VOICED = 0.05  # voice loudness (0..1) that counts as singing
SHORT_PHRASE_S = 0.6  # a phrase shorter than this joins the one before it (a breath is not a turn)
MIN_TURN_S = 1.5  # a song without rests is cut into turns no shorter than this
LISTENING_MOTION = 0.5  # how much of the head motion a face keeps while it listens
DEFAULT_BEATS_PER_SECOND = 2.0  # tempo when a song has too few beats to measure (120 bpm)
PEAK = 0.97  # a mixed track is scaled down to peak here at most


def phrases(loudness: np.ndarray, fps: int) -> list[tuple[int, int]]:
    """(first, end) frames of each phrase: voiced stretches separated by rests of REST_S or more, short ones joined
    to the phrase before."""
    voiced = np.flatnonzero(loudness > VOICED)
    if voiced.size == 0:
        return []
    gaps = np.flatnonzero(np.diff(voiced) > REST_S * fps)
    starts = np.r_[voiced[0], voiced[gaps + 1]]
    ends = np.r_[voiced[gaps] + 1, voiced[-1] + 1]
    joined: list[list[int]] = []
    for start, end in zip(starts, ends):
        if joined and end - start < SHORT_PHRASE_S * fps:
            joined[-1][1] = int(end)
        else:
            joined.append([int(start), int(end)])
    return [(start, end) for start, end in joined]


def turns(features: AudioFeatures, singers: int) -> list[np.ndarray]:
    """For each face, 0..1 per frame: 1 while the phrases it sings last (phrase k goes to face k mod singers),
    switching halfway through the rests between phrases. A song sung without rests is cut at its quietest
    moments, so that every face gets turns."""
    found = phrases(features.loudness, features.fps)
    while 0 < len(found) < 2 * singers:
        k = max(range(len(found)), key=lambda i: found[i][1] - found[i][0])
        start, end = found[k]
        if end - start < 2 * MIN_TURN_S * features.fps:
            break
        middle = slice(start + (end - start) // 4, end - (end - start) // 4)
        cut = middle.start + int(np.argmin(features.loudness[middle]))
        found[k:k + 1] = [(start, cut), (cut, end)]
    owner = np.zeros(features.n_frames, np.int64)
    for k, (start, _) in enumerate(found):
        if k:  # the turn passes halfway through the rest before this phrase
            owner[(found[k - 1][1] + start) // 2:] = k % singers
    return [(owner == i).astype(np.float32) for i in range(singers)]


def sings_only(features: AudioFeatures, turn: np.ndarray) -> AudioFeatures:
    """The features with the voice kept only where `turn` is 1: the face's mouth stays shut elsewhere."""
    return dataclasses.replace(features, loudness=features.loudness * turn, roundness=features.roundness * turn,
                               spread=features.spread * turn)


def listening(plan: MotionPlan, turn: np.ndarray, fps: int) -> MotionPlan:
    """The head moves less while the face listens (`turn` 0) than while it sings, easing between the two."""
    share = LISTENING_MOTION + (1 - LISTENING_MOTION) * gaussian_filter1d(turn.astype(np.float64), 0.3 * fps)
    share = share.astype(np.float32)
    return dataclasses.replace(plan, yaw=plan.yaw * share, pitch=plan.pitch * share, roll=plan.roll * share)


def beat_seconds(features: AudioFeatures) -> float:
    """The song's beat period: the median gap between its beats, or DEFAULT_BEATS_PER_SECOND's."""
    beats = np.flatnonzero(features.beat)
    if beats.size < 4:
        return 1.0 / DEFAULT_BEATS_PER_SECOND
    return float(np.median(np.diff(beats))) / features.fps


def round_track(voice: np.ndarray, accompaniment: np.ndarray, entries: list[int]) -> np.ndarray:
    """The round: the accompaniment once, and the voice entering at each of `entries` (samples), each entry quieter
    so the whole stays as loud as one voice over the band would be, limited to PEAK."""
    length = max(len(accompaniment), len(voice) + max(entries))
    voices = sum(fitted(voice, length, entry) for entry in entries) / np.sqrt(len(entries))
    return peak_limited(fitted(accompaniment, length) + voices)


def mixed(clips: list[np.ndarray]) -> np.ndarray:
    """Clips (own voices) played together from the start, padded to the longest, each at 1/sqrt(n), limited."""
    length = max(len(clip) for clip in clips)
    return peak_limited(sum(fitted(clip, length) for clip in clips) / np.sqrt(len(clips)))


def peak_limited(track: np.ndarray) -> np.ndarray:
    peak = float(np.abs(track).max()) if track.size else 0.0
    return (track * (PEAK / peak) if peak > PEAK else track).astype(np.float32)
