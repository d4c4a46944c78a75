"""The quality benchmark on one short case, with relaxed bounds, so a regression in lip sync, rest in silence,
identity, jitter, blinks, head motion or background fails CI (benchmarks/quality.py has the full targets)."""
from __future__ import annotations

import importlib.util
import sys

import cv2
import numpy as np
import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow  # renders and measures a whole preset

SIZE = 256  # small for speed; jitter bounds scale with the frame


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("benchmark_quality", ROOT / "benchmarks" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def measured(quality, intro_song):
    """The spoken preset with the longest intro, on the smiling example: the mouth must stay at rest for 2 s."""
    return quality.measure(quality.preset(intro_song.id), ROOT / "examples" / "eileen_collins.jpg", size=SIZE,
                           identity_every=15)


def test_lips_follow_the_voice_without_lag(measured):
    assert measured.sync_r >= 0.7 and abs(measured.sync_lag) <= 1


def test_mouth_rests_while_only_instruments_play(measured):
    assert measured.silence <= 0.05  # one whole pixel of dlib's landmarks is 0.02 at this size


def test_face_stays_the_same_person(measured):
    assert measured.identity_max <= 0.4  # dlib's own same-person threshold is 0.6


def test_head_moves_smoothly_with_the_music(measured):
    assert measured.jitter <= 0.5 * SIZE / 512
    assert measured.head_range_px >= 2 and measured.speed_r >= 0.15


def test_blinks_at_a_natural_rate(measured):
    assert 5 <= measured.blinks_per_min <= 35


def test_background_holds_still(measured):
    assert measured.background <= 1.0 and measured.missed == 0


def _textured_frames(path: np.ndarray, size: int = 160) -> np.ndarray:
    """A still textured scene moved by `path` ((n, 2) pixels) in each frame."""
    scene = cv2.GaussianBlur(np.random.default_rng(0).uniform(0, 255, (size, size)).astype(np.float32), (0, 0), 2)
    scene = cv2.normalize(scene, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    frames = [cv2.warpAffine(scene, np.float32([[1, 0, dx], [0, 1, dy]]), (size, size), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT) for dx, dy in path]
    return np.stack([cv2.cvtColor(f, cv2.COLOR_GRAY2RGB) for f in frames])


def test_the_tracker_sees_real_jitter(quality):
    """A shake of 1 px every other frame over a smooth path is measured, not smoothed away."""
    t = np.arange(60)
    smooth = np.stack([3 * np.sin(t / 9), 2 * np.cos(t / 7)], 1)
    shaken = smooth + np.stack([(t % 2) * 1.0, np.zeros(60)], 1)
    points = np.float32([[50, 50], [110, 50], [80, 80], [60, 110], [100, 110]])
    steady, shaky = (quality.second_difference(quality.follow(_textured_frames(p), points)).mean()
                     for p in (smooth, shaken))
    assert steady < 0.1 and shaky > 1.5  # a 1 px zig-zag has a second difference of 2


def test_a_point_covered_for_a_moment_moves_with_the_others(quality):
    """A dark bar over one point for 3 frames (a lid over an eye corner): the flow loses it, and it goes on
    with the rest instead of being thrown off."""
    t = np.arange(40)
    frames = _textured_frames(np.stack([t * 0.3, t * 0.1], 1))
    frames[20:23, 40:60, 40:75] = 20
    points = np.float32([[50, 50], [110, 50], [80, 80], [60, 110], [100, 110]])
    followed = quality.follow(frames, points)
    expected = points + np.stack([t * 0.3, t * 0.1], 1)[:, None]
    assert np.abs(followed - expected).max() < 1.0
