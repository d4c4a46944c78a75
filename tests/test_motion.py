"""The weak controls: mouth from the voice, head speed from the music, blinks, bounded head pose."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from emo import motion


def test_mouth_follows_loudness_without_lag(intro_features):
    plan = motion.plan(intro_features)
    loud = intro_features.loudness
    assert np.corrcoef(plan.mouth_open, loud)[0, 1] > 0.9
    assert plan.mouth_open[loud == 0].max() <= 0.02
    assert 0.6 * motion.MAX_OPEN < plan.mouth_open.max() <= motion.MAX_OPEN


def test_speech_opens_the_mouth_less_than_song(all_features):
    """A speaker's loudest vowels open the jaw about two thirds as far as a singer's: the same spoken line, taken for
    song, opens wider by that much."""
    spoken = next(f for f in all_features if f.sung == 0.0)
    widest = motion.plan(spoken).mouth_open.max()
    assert widest == pytest.approx(motion.SPOKEN_OPEN * motion.plan(dataclasses.replace(spoken, sung=1.0)).mouth_open.max())
    assert widest < 0.7 * motion.MAX_OPEN


def test_blinks_are_natural(intro_features):
    plan = motion.plan(intro_features, seed=5)
    closed = np.flatnonzero(plan.blink >= 1.0)
    per_minute = len(closed) / (intro_features.duration / 60)
    assert 2 <= per_minute <= 40 and len(closed) >= 1
    assert (np.diff(closed) >= 25).all() if len(closed) > 1 else True


def test_blinks_fall_where_the_voice_rests(all_features):
    """Singers blink between phrases: across the presets, the voice under shut lids is well below its average."""
    under = []
    for features in all_features:
        shut = motion.plan(features, seed=0).blink >= 0.75
        under.append(features.loudness[shut].mean() / features.loudness.mean())
    assert np.median(under) < 0.05 and max(under) < 0.2


def test_motion_control_scales_the_head_and_stays_in_range(intro_features):
    still = motion.plan(intro_features, motion=0.0)
    lively = motion.plan(intro_features, motion=1.0)
    assert np.abs(still.yaw).max() == 0 and np.abs(still.roll).max() == 0
    assert np.abs(lively.yaw).max() > np.radians(2)
    assert np.abs(lively.yaw).max() <= motion.MAX_YAW + 1e-6
    assert np.abs(lively.roll).max() <= motion.MAX_ROLL + 1e-6


def test_the_head_moves_faster_in_busy_music(intro_features):
    """What the plan's head does, not an intermediate: its angular speed where the music is busiest, per seed."""
    busy = intro_features.onset > np.percentile(intro_features.onset, 75)
    assert motion.speed(intro_features)[busy].mean() > motion.speed(intro_features)[~busy].mean()
    for seed in range(4):
        plan = motion.plan(intro_features, motion=1.0, seed=seed)
        pose = np.stack([plan.yaw, plan.pitch, plan.roll], axis=1)
        step = np.r_[0.0, np.linalg.norm(np.diff(pose, axis=0), axis=1)]
        assert step[busy].mean() > 1.1 * step[~busy].mean(), seed


def test_gaze_rests_then_moves_quickly_and_stays_in_range(intro_features):
    plan = motion.plan(intro_features, seed=2)
    assert np.abs(plan.gaze).max() <= 1.0 and np.abs(plan.gaze).max() > 0.05
    moving = np.abs(np.diff(plan.gaze)) > 1e-4
    assert moving.mean() < 0.25  # held most of the time, saccades are short
    assert np.array_equal(plan.gaze, motion.plan(intro_features, seed=2).gaze)
    assert not np.array_equal(plan.gaze, motion.plan(intro_features, seed=3).gaze)


def test_brows_rise_only_on_held_loud_notes(intro_features):
    """Two seconds held loud lift the brows; short loud syllables and quiet singing leave them."""
    fps = intro_features.fps
    loudness = np.zeros(intro_features.n_frames, np.float32)
    loudness[fps:int(1.3 * fps)] = 0.9  # a short loud syllable
    loudness[3 * fps:5 * fps] = 0.9  # a held note
    loudness[7 * fps:9 * fps] = 0.4  # held, but not loud
    brow = motion.brows(dataclasses.replace(intro_features, loudness=loudness))
    assert 0.0 <= brow.min() and brow.max() <= 1.0
    assert brow[4 * fps:5 * fps].max() > 0.9
    assert brow[:2 * fps].max() < 0.1 and brow[6 * fps + fps // 2:].max() < 0.1
