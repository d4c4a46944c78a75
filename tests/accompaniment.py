"""Synthetic accompaniment added over the presets, shared by tests/test_separate.py and benchmarks/separation.py."""
from __future__ import annotations

import numpy as np

from emo.audio import SAMPLE_RATE


def drum_kit(n_samples: int, bpm: float = 100.0, seed: int = 0) -> np.ndarray:
    """A plain rock beat: kick on 1 and 3, snare on 2 and 4, closed hi-hat on every eighth note (deterministic)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.15 * SAMPLE_RATE)) / SAMPLE_RATE
    kick = np.sin(2 * np.pi * (60 + 90 * np.exp(-30 * t)) * t) * np.exp(-25 * t)  # a falling sine thump
    snare = 0.6 * rng.standard_normal(len(t)) * np.exp(-30 * t)
    hat = np.diff(0.3 * rng.standard_normal(len(t) + 1) * np.exp(-120 * np.arange(len(t) + 1) / SAMPLE_RATE))
    out = np.zeros(n_samples + len(t))
    for i, start in enumerate(np.arange(0, n_samples / SAMPLE_RATE, 30 / bpm)):
        j = int(start * SAMPLE_RATE)
        out[j:j + len(t)] += hat + (kick if i % 4 == 0 else snare if i % 4 == 2 else 0)
    return out[:n_samples]


def held_pad(n_samples: int) -> np.ndarray:
    """C, F, G, C major chords (C3-C4 voicing), two seconds each, seven harmonics per note: organ-like, steady."""
    t = np.arange(n_samples) / SAMPLE_RATE
    out = np.zeros(n_samples)
    for i, start in enumerate(np.arange(0, t[-1], 2.0)):
        span = (t >= start) & (t < start + 2.0)
        for note in (48, 52, 55, 60):
            f0 = 440 * 2 ** ((note + (0, 5, 7, 0)[i % 4] - 69) / 12)
            out[span] += sum(np.sin(2 * np.pi * h * f0 * t[span]) / h ** 1.5 for h in range(1, 8))
    return out
