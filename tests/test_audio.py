"""Audio decoding and the per-frame features that drive the face."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from emo import audio, ffmpeg
from emo.errors import AudioError
from emo.songs import list_songs

SR = audio.SAMPLE_RATE


def _encode(src, dst, *args):
    subprocess.run([ffmpeg.exe(), "-v", "error", "-y", "-i", str(src), *args, str(dst)], check=True)
    return dst


@pytest.mark.parametrize("ext, args", [("mp3", []), ("wav", []), ("m4a", ["-c:a", "aac"]), ("ogg", []),
                                       ("flac", []), ("wav", ["-ac", "6"]), ("wav", ["-ar", "8000"]),
                                       ("flac", ["-ar", "96000"])])
def test_decodes_common_formats_to_the_same_length(tmp_path, intro_song, ext, args):
    reference = audio.load_audio(intro_song.mix)
    decoded = audio.load_audio(_encode(intro_song.mix, tmp_path / f"clip.{ext}", *args))
    assert decoded.dtype == np.float32 and decoded.ndim == 1
    assert abs(len(decoded) - len(reference)) < 0.06 * SR  # mp3/aac add tens of ms of padding at most
    assert 0.01 < np.abs(decoded).max() <= 1.0


def test_unreadable_audio_has_a_clear_message(tmp_path):
    bad = tmp_path / "song.mp3"
    bad.write_text("not audio at all")
    with pytest.raises(AudioError, match="could not be read as audio"):
        audio.load_audio(bad)
    with pytest.raises(AudioError, match="does not exist"):
        audio.load_audio(tmp_path / "missing.wav")


def test_too_short_and_silent_clips_are_refused():
    with pytest.raises(AudioError, match="at least"):
        audio.analyse(np.zeros(SR // 2, np.float32), np.full(SR // 2, 0.1, np.float32))
    with pytest.raises(AudioError, match="silent"):
        audio.analyse(np.zeros(3 * SR, np.float32), np.zeros(3 * SR, np.float32))


def test_one_value_per_video_frame(intro_song, intro_features):
    f = intro_features
    assert f.n_frames == round(len(f.mix) / SR * 25)
    assert abs(f.duration - intro_song.duration) <= 1 / 25
    for name in ("loudness", "roundness", "spread", "onset", "beat", "energy"):
        assert len(getattr(f, name)) == f.n_frames, name


def test_voice_loudness_follows_the_stem_not_the_instruments(intro_song, intro_features):
    f = intro_features
    intro = slice(0, int((intro_song.voice_start - 0.2) * 25))
    assert f.loudness[intro].max() == 0.0  # instruments only: the mouth must stay shut
    assert f.energy[intro].max() > 0.3  # ...although the music is playing
    assert f.loudness[int(intro_song.voice_start * 25):].max() > 0.8


def test_beats_land_on_a_click_track():
    t = np.arange(8 * SR) / SR
    clicks = np.zeros_like(t)
    for k in range(16):  # 120 BPM: a click every 12.5 frames
        start = int(k * 0.5 * SR)
        clicks[start:start + 400] = np.sin(2 * np.pi * 1000 * t[:400]) * np.exp(-np.arange(400) / 80)
    f = audio.analyse(clicks.astype(np.float32), clicks.astype(np.float32))
    beat_times = np.nonzero(f.beat)[0] / 25
    assert len(beat_times) >= 7
    offsets = np.abs(((beat_times + 0.25) % 0.5) - 0.25)  # distance to the nearest click
    assert offsets.max() <= 0.08
    assert f.onset[np.round(np.arange(16) * 12.5).astype(int)].mean() > 5 * np.median(f.onset)


def test_rounded_and_spread_vowels_differ():
    """A voice whose energy sits low (o/u-like) reads as rounded, one with a high formant (i/e-like) as spread."""
    t = np.arange(2 * SR) / SR
    f0 = 200
    low = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 4))  # energy under 600 Hz
    high = sum(np.sin(2 * np.pi * f0 * k * t) * (1.0 if k in (1, 12, 13) else 0.05) for k in range(1, 16))
    voice = np.concatenate([low, high]).astype(np.float32) * 0.2
    f = audio.analyse(voice, voice)
    first, second = slice(5, 45), slice(55, 95)
    assert f.roundness[first].mean() > 0.5 > f.roundness[second].mean()
    assert f.spread[second].mean() > 0.5 > f.spread[first].mean()


def test_speech_and_song_are_told_apart(all_features):
    """Singing holds its notes, speech glides through its syllables: every sung preset reads as song, every spoken
    one as speech (motion opens the mouth less for speech)."""
    for song, features in zip(list_songs(), all_features):
        assert (features.sung > 0.9) if song.kind == "sung" else (features.sung < 0.1), song.id


def test_held_notes_read_as_song_gliding_syllables_as_speech():
    """The same voice (a 180 Hz harmonic tone) held on notes a quarter tone to three semitones apart reads as song;
    chopped into 0.2 s syllables whose pitch glides reads as speech; a voice hardly pitched at all (noise) is not
    judged and stays song."""
    rng = np.random.default_rng(0)
    t = np.arange(4 * SR) / SR

    def voice(semitones: np.ndarray) -> np.ndarray:
        phase = 2 * np.pi * np.cumsum(180 * 2 ** (semitones / 12)) / SR
        return sum(np.sin(k * phase) / k for k in range(1, 6)).astype(np.float32) * 0.2

    notes = voice(np.repeat([0, 3, 0.5, 2], SR))
    syllables = voice(4 * np.sin(2 * np.pi * 1.7 * t)) * (np.sin(2 * np.pi * 2.5 * t) > 0)
    noise = (rng.standard_normal(len(t)) * 0.1).astype(np.float32)
    assert audio.analyse(notes, notes).sung == 1.0
    assert audio.analyse(syllables, syllables).sung == 0.0
    assert audio.analyse(noise, noise).sung == 1.0


def test_another_voice_in_the_same_mix_keeps_the_mix_features():
    """with_voice (each face of one track singing its own part) gives what analysing that voice with the mix gives."""
    rng = np.random.default_rng(0)
    t = np.arange(6 * SR) / SR
    first = (0.3 * np.sin(2 * np.pi * 220 * t) * (t < 3)).astype(np.float32)
    second = (0.3 * np.sin(2 * np.pi * 330 * t) * (t >= 3)).astype(np.float32)
    mix = first + second + rng.normal(0, 0.05, len(t)).astype(np.float32)
    shared, alone = audio.with_voice(audio.analyse(first, mix), second), audio.analyse(second, mix)
    for name in ("vocals", "mix", "loudness", "roundness", "spread", "onset", "beat", "energy"):
        assert np.array_equal(getattr(shared, name), getattr(alone, name)), name
    assert shared.loudness[100:].mean() > 0.5 > shared.loudness[:50].mean()  # it follows the second voice


# ffmpeg arguments for a 1.5 s tone in each container an upload may come in (phones, browsers, editors).
CONTAINERS = {
    "song.wav": [], "song.aiff": [], "song.mp3": ["-c:a", "libmp3lame"], "song.flac": [],
    "song.ogg": ["-c:a", "libvorbis"], "voice.opus": ["-c:a", "libopus"], "song.m4a": ["-c:a", "aac"],
    "song.aac": ["-c:a", "aac", "-f", "adts"], "voice.webm": ["-c:a", "libopus"],
    "clip.mp4": ["-f", "lavfi", "-i", "color=c=red:s=64x64:d=1.5", "-c:v", "libx264", "-c:a", "aac", "-shortest"],
    "wav-named.mp3": ["-c:a", "pcm_s16le", "-f", "wav"], "tagged.mp3": ["-c:a", "libmp3lame", "-id3v2_version", "4",
                                                                        "-metadata", "title=" + "x" * 300],
}


@pytest.mark.parametrize("name", CONTAINERS)
def test_every_audio_container_is_recognised_and_read(tmp_path, name):
    path = tmp_path / name
    subprocess.run([ffmpeg.exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=1.5", *CONTAINERS[name],
                    str(path)], check=True)
    assert audio.sniff_container(path.read_bytes()[:65536]) is not None
    assert len(audio.load_audio(path)) == pytest.approx(1.5 * audio.SAMPLE_RATE, abs=0.05 * audio.SAMPLE_RATE)


@pytest.mark.parametrize("head", [
    b"#EXTM3U\n#EXT-X-TARGETDURATION:3\n", b"ffconcat version 1.0\nfile '/etc/passwd'\n", b"v=0\no=- 0 0 IN IP4 x\n",
    b"RIFF\x00\x00\x00\x00AVI LIST", b"<?xml version='1.0'?><playlist/>", b"ID3\x04\x00\x00\x00\x00\x00\x00ID3" * 40,
    b"", b"\xff",
], ids=["hls", "concat", "sdp", "avi", "xml", "nested id3", "empty", "one byte"])
def test_playlists_scripts_and_other_files_are_not_audio(tmp_path, head):
    assert audio.sniff_container(head) in (None, "mp3")  # nested ID3 tags: looked past once, then read as mp3
    path = tmp_path / "upload.mp3"
    path.write_bytes(head)
    with pytest.raises(AudioError, match="could not be read as audio"):
        audio.load_audio(path)
