"""Voice separation for uploads without a stem: the mouth must follow the voice, not the instruments.

Margins come from benchmarks/separation.py: on the six presets with an intro, the separated voice opens the mouth in
the intro 0-0.53 as wide as the raw mix does (0.03 as wide, median), and its mouth correlates 0.85-0.99 with the
stem-driven one where the mix's correlates 0.55-0.88. Openings are judged in units of the widest one (MAX_OPEN), so
that retuning the motion plan's scale does not move them.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from emo import audio
from emo.motion import MAX_OPEN, plan
from emo.separate import _fft_size, _istft, _stft, separate_voice
from emo.songs import get_song, list_songs

from .accompaniment import drum_kit, held_pad

SR = audio.SAMPLE_RATE
FPS = 25
INTRO_MARGIN_S = 0.2
INTRO_SONGS = [s.id for s in list_songs() if s.voice_start - INTRO_MARGIN_S >= 0.25]
OTHER_SONGS = [s.id for s in list_songs() if s.id not in INTRO_SONGS]


def mouth(voice: np.ndarray, mix: np.ndarray) -> np.ndarray:
    return plan(audio.analyse(voice, mix, fps=FPS)).mouth_open


@lru_cache(maxsize=None)
def measured(song_id: str) -> dict:
    """Mouth opening per frame with the voice from the stem, from the raw mix and from the separated mix."""
    song = get_song(song_id)
    mix, stem = audio.load_audio(song.mix), audio.load_audio(song.vocals)
    separated = separate_voice(mix)
    return {"song": song, "mix_audio": mix, "stem_audio": stem, "stem": mouth(stem, mix), "mix": mouth(mix, mix),
            "separated": mouth(separated, mix), "separated_audio": separated}


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def intro(m: dict, key: str) -> float:
    """Mean mouth opening over the instrumental intro, as a share of the widest opening."""
    return float(m[key][: int((m["song"].voice_start - INTRO_MARGIN_S) * FPS)].mean()) / MAX_OPEN


def test_there_are_presets_with_and_without_an_intro():
    assert len(INTRO_SONGS) >= 3 and OTHER_SONGS


@pytest.mark.parametrize("song_id", INTRO_SONGS)
def test_instruments_in_the_intro_move_the_mouth_much_less(song_id):
    m = measured(song_id)
    assert intro(m, "stem") == 0.0  # the reference: only instruments play, the mouth is shut
    assert intro(m, "mix") > 0.4  # the problem: the raw mix opens it (measured 0.51-0.84)
    assert intro(m, "separated") < 0.7 * intro(m, "mix")  # measured at most 0.53 of the mix (mo-li-hua)


def test_intros_stay_shut_overall():
    separated = [intro(measured(s), "separated") for s in INTRO_SONGS]
    mixed = [intro(measured(s), "mix") for s in INTRO_SONGS]
    assert np.median(separated) < 0.1 < 0.5 < np.median(mixed)  # measured 0.03 vs 0.65
    assert np.mean(separated) < 0.18  # measured 0.12; 0.20 without the voice comb


@pytest.mark.parametrize("song_id", INTRO_SONGS)
def test_separated_mouth_follows_the_stem_better_than_the_mix(song_id):
    m = measured(song_id)
    assert corr(m["separated"], m["stem"]) > corr(m["mix"], m["stem"]) + 0.05  # measured +0.10 to +0.28
    assert corr(m["separated"], m["stem"]) > 0.8  # measured 0.85-0.99; mo-li-hua falls to 0.76 without the comb


@pytest.mark.parametrize("song_id", OTHER_SONGS)
def test_songs_that_start_with_the_voice_are_not_made_worse(song_id):
    m = measured(song_id)
    assert corr(m["separated"], m["stem"]) > corr(m["mix"], m["stem"]) - 0.05  # worst measured -0.019
    assert corr(m["separated"], m["stem"]) > 0.9


@pytest.mark.parametrize("song_id", ["jingle-bells", "still-loading"])
def test_loud_drums_do_not_drive_the_mouth(song_id):
    """A drum kit 6 dB over the song: the mix's mouth follows the drums, the separated one still the voice."""
    m = measured(song_id)
    mix = m["mix_audio"]
    kit = drum_kit(len(mix))
    drummed = (mix + 2 * kit * np.sqrt(np.mean(mix.astype(np.float64) ** 2) / np.mean(kit ** 2))).astype(np.float32)
    raw, separated = corr(mouth(drummed, drummed), m["stem"]), corr(mouth(separate_voice(drummed), drummed), m["stem"])
    assert separated > 0.85 and separated > raw + 0.2  # measured 0.88-0.89 vs 0.52-0.54; 0.80-0.83 without step 1


@pytest.mark.parametrize("song_id", ["twinkle-twinkle", "breaking-news-cat"])
def test_a_held_pad_does_not_open_the_mouth(song_id):
    """Organ-like chords as loud as the song, from the first second: held notes are accompaniment."""
    m = measured(song_id)
    mix = m["mix_audio"]
    pad = held_pad(len(mix))
    padded = (mix + pad * np.sqrt(np.mean(mix.astype(np.float64) ** 2) / np.mean(pad ** 2))).astype(np.float32)
    voice = separate_voice(padded)
    assert corr(mouth(voice, padded), m["stem"]) > 0.9  # measured 0.92-0.97; 0.66-0.88 without step 2
    n_intro = int((m["song"].voice_start - INTRO_MARGIN_S) * FPS)
    assert mouth(voice, padded)[:n_intro].mean() / MAX_OPEN < 0.2  # measured 0.00-0.07; 0.54-0.55 without step 2


@pytest.mark.parametrize("song_id", ["twinkle-twinkle", "breaking-news-cat"])
def test_a_voice_alone_is_left_alone(song_id):
    m = measured(song_id)
    stem = m["stem_audio"]
    assert corr(mouth(separate_voice(stem), stem), mouth(stem, stem)) > 0.95  # measured 0.98


def test_a_synthetic_voice_over_a_chord_and_drums():
    """A gliding, vibrato voice from 2 s over a held chord and clicks from 0 s: only the voice comes out."""
    rng = np.random.default_rng(0)
    t = np.arange(5 * SR) / SR
    backing = sum(0.08 * np.sin(2 * np.pi * f * t) for f in (131, 165, 196, 262))  # C major, held throughout
    for start in np.arange(0, 5, 0.25):  # a click every quarter second
        i = int(start * SR)
        backing[i:i + 400] += 0.5 * rng.standard_normal(400) * np.exp(-np.arange(400) / 60)
    f0 = 220 * 2 ** ((2 * (t % 1.0 > 0.5) + 0.2 * np.sin(2 * np.pi * 5.5 * t)) / 12)  # two notes a second
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(0.3 / h * np.sin(h * phase) for h in range(1, 15)) * (t >= 2.0)
    separated = separate_voice((backing + voice).astype(np.float32))
    before, after = separated[: int(1.8 * SR)], separated[int(2.2 * SR):]
    rms = lambda x: np.sqrt(np.mean(x ** 2))  # noqa: E731
    assert rms(before) < 0.03 * rms(after)  # over 30 dB quieter before the voice (measured 87 dB)
    assert rms(after) > 0.5 * rms(voice[int(2.2 * SR):])  # and most of the voice kept (measured 0.77 of its level)


@pytest.mark.parametrize("n", [0, 1, 500, 1024, SR + 7, 3 * SR])
def test_same_length_float32_and_finite(n):
    x = np.random.default_rng(n).uniform(-0.5, 0.5, n).astype(np.float64)
    y = separate_voice(x)
    assert y.dtype == np.float32 and y.shape == (n,)
    assert np.isfinite(y).all()


def test_a_preset_keeps_its_length():
    m = measured(INTRO_SONGS[0])
    assert m["separated_audio"].shape == m["mix_audio"].shape and m["separated_audio"].dtype == np.float32


def test_silence_in_silence_out():
    assert not separate_voice(np.zeros(3 * SR, np.float32)).any()
    y = separate_voice(np.zeros(3 * SR, np.float32), sample_rate=44_100)
    assert y.shape == (3 * SR,) and not y.any()


def test_other_sample_rates_and_mono_only():
    t = np.arange(2 * 22_050) / 22_050
    tone = (0.2 * np.sin(2 * np.pi * 220 * t) * (t > 1)).astype(np.float32)
    y = separate_voice(tone, sample_rate=22_050)
    assert y.shape == tone.shape and np.abs(y[t > 1.2]).max() > 0.05
    with pytest.raises(ValueError, match="mono"):
        separate_voice(np.zeros((2, SR), np.float32))


@pytest.mark.parametrize("sample_rate", [8_000, 16_000, 44_100])
def test_the_stft_resynthesises_exactly(sample_rate):
    x = np.random.default_rng(1).standard_normal(sample_rate + 123).astype(np.float32)
    n_fft = _fft_size(sample_rate)
    assert np.abs(_istft(_stft(x, n_fft, n_fft // 4), n_fft, n_fft // 4, len(x)) - x).max() < 1e-5
