"""The shipped preset library (assets/songs) and its catalogue (emo.songs).

Offline and fast: only decodes the committed files; the generator (scripts/make_songs.py) is not run here.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache

import numpy as np
import pytest

from emo.audio import load_audio
from emo.errors import SongError
from emo.songs import SONGS_DIR, get_song, list_songs

RATE = 16_000
SONGS = list_songs()
IDS = [song.id for song in SONGS]
FIELDS = {"id", "title", "language", "kind", "lyrics", "duration", "voice_start", "licence", "provenance"}


@lru_cache(maxsize=None)
def decoded(song_id: str, name: str) -> np.ndarray:
    return load_audio(SONGS_DIR / song_id / f"{name}.flac", sample_rate=RATE)


def dbfs(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(samples.astype(np.float64) ** 2) + 1e-20))


def window(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    return samples[int(start * RATE):int(end * RATE)]


def test_catalogue_has_enough_of_each_kind_in_both_languages():
    sung = [s for s in SONGS if s.kind == "sung"]
    spoken = [s for s in SONGS if s.kind == "spoken"]
    assert len(SONGS) >= 8 and len(sung) >= 5 and len(spoken) >= 3
    assert {s.language for s in sung} == {"en", "zh"}
    assert {s.language for s in spoken} == {"en", "zh"}
    assert len(set(IDS)) == len(IDS)


def test_every_folder_is_in_the_catalogue():
    assert sorted(p.name for p in SONGS_DIR.iterdir() if p.is_dir()) == sorted(IDS)


@pytest.mark.parametrize("song_id", IDS)
def test_metadata(song_id):
    song = get_song(song_id)
    meta = json.loads((SONGS_DIR / song_id / "song.json").read_text(encoding="utf-8"))
    assert set(meta) == FIELDS
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", song.id) and song.id == song_id
    assert song.language in ("en", "zh") and song.kind in ("sung", "spoken")
    assert song.title.strip() and song.licence.strip() and song.provenance.strip()
    if song.language == "zh":  # Chinese characters, not pinyin
        assert re.search(r"[\u4e00-\u9fff]", song.lyrics)
    else:
        assert re.fullmatch(r"[A-Za-z][A-Za-z ,.!?'-]+", song.lyrics)
    assert isinstance(meta["duration"], float) and round(meta["duration"], 3) == meta["duration"]
    assert 5.0 <= song.duration <= 15.0
    assert 0.0 < song.voice_start < song.duration - 2.0
    assert song.mix.is_file() and song.vocals.is_file()


@pytest.mark.parametrize("song_id", IDS)
def test_files_are_as_long_as_stated_and_aligned(song_id):
    song = get_song(song_id)
    mix, stem = decoded(song_id, "mix"), decoded(song_id, "vocals")
    assert len(mix) == len(stem)
    assert abs(len(mix) / RATE - song.duration) < 0.01
    # The stem is the voice inside the mix: their correlation peaks at zero lag.
    voice = slice(int(song.voice_start * RATE), len(mix))
    lags = range(-40, 41)
    dots = [np.dot(np.roll(stem, lag)[voice], mix[voice]) for lag in lags]
    assert lags[int(np.argmax(dots))] == 0


@pytest.mark.parametrize("song_id", IDS)
def test_stem_is_silent_before_the_voice_and_loud_after(song_id):
    song = get_song(song_id)
    stem = decoded(song_id, "vocals")
    before = window(stem, 0.0, song.voice_start - 0.03)
    assert before.size == 0 or dbfs(before) < -60
    assert dbfs(window(stem, song.voice_start, song.voice_start + 0.5)) > -35


@pytest.mark.parametrize("song_id", IDS)
def test_mix_level_and_peaks(song_id):
    mix = decoded(song_id, "mix")
    assert -22 < dbfs(mix) < -10
    assert 20 * np.log10(np.abs(mix).max()) <= -0.5  # -1 dBFS at 32 kHz, plus room for resampling overshoot


def test_some_presets_open_with_an_audible_instrumental_intro():
    intros = [song for song in SONGS if song.voice_start >= 1.5]
    assert len(intros) >= 2
    assert any(song.kind == "sung" for song in intros)
    for song in intros:
        intro = (0.1, song.voice_start - 0.1)
        assert dbfs(window(decoded(song.id, "mix"), *intro)) > -35, song.id
        assert dbfs(window(decoded(song.id, "vocals"), *intro)) < -60, song.id


def test_assets_stay_small():
    assert sum(f.stat().st_size for f in SONGS_DIR.rglob("*") if f.is_file()) < 12_000_000


@pytest.mark.parametrize("bad", ["../etc/passwd", "", "UPPER", "twinkle-twinkle/../mo-li-hua", "no-such-song",
                                 " twinkle-twinkle", "twinkle-twinkle\n", None])
def test_get_song_rejects_bad_ids(bad):
    with pytest.raises(SongError, match="Choose one of: ") as caught:
        get_song(bad)
    assert all(song_id in str(caught.value) for song_id in IDS)


def test_list_order_is_stable_with_sung_first():
    assert [s.id for s in list_songs()] == IDS
    kinds = [s.kind for s in SONGS]
    assert kinds == sorted(kinds, key=("sung", "spoken").index)


def test_label_names_title_language_and_length():
    song = next(s for s in SONGS if s.language == "zh")
    assert song.label == f"{song.title} · Mandarin · {song.duration:.1f} s"
