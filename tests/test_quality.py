"""The quality benchmark on one short case, with relaxed bounds, so a regression in lip sync, rest in silence,
identity, jitter, blinks, head motion or background fails CI (benchmarks/quality.py has the full targets)."""
from __future__ import annotations

import importlib.util
import sys

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
