"""The whole flow through its three doors: Python (`emo.sing`), the CLI and the app's handler."""
from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import emo
import emo.ffmpeg
from emo import face as face_mod
from emo.errors import UserError
from emo.pipeline import checked, parse_time

from . import images
from .conftest import ROOT, answer, decode_frames, duration, probe


@pytest.mark.slow
def test_sing_makes_a_browser_ready_video(tmp_path, intro_song):
    seen = []
    result = emo.sing(images.astronaut(), intro_song.id, engine="warp", size=256, out=tmp_path / "a.mp4",
                      progress=lambda fraction, message: seen.append((fraction, message)))
    info = probe(result.video)
    assert "Video: h264" in info and "yuv420p" in info and "256x256" in info and "25 fps" in info
    assert "Audio: aac" in info
    assert abs(duration(result.video) - intro_song.duration) <= 1 / 25 + 0.03
    data = result.video.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # faststart: plays before it has fully downloaded
    frames = decode_frames(result.video, 256)
    assert abs(len(frames) - round(intro_song.duration * 25)) <= 1
    assert result.engine == "warp" and result.frames == len(frames)
    stages = [m for _, m in seen]
    assert stages[0] == "Checking the face" and "Analysing the audio" in stages
    assert any(m.startswith("Animating frame") for m in stages) and seen[-1][0] == 1.0
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert not list(tmp_path.glob(".*partial*"))


def _dominant_hz(path, start: float, seconds: float) -> float:
    raw = subprocess.run([emo.ffmpeg.exe(), "-v", "error", "-ss", str(start), "-t", str(seconds), "-i", str(path),
                          "-ac", "1", "-ar", "16000", "-f", "f32le", "-"], capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, np.float32)
    return float(np.argmax(np.abs(np.fft.rfft(samples))) * 16000 / len(samples))


@pytest.mark.slow
def test_the_part_chosen_is_the_part_sung(tmp_path):
    """start/end pick the part: the video is as long as the part, and its sound is that part's (300 Hz for 0-4 s of
    the clip, 600 Hz for 4-8 s), in m:ss or seconds; an end past the audio sings to its end."""
    clip = tmp_path / "two-tones.wav"
    subprocess.run([emo.ffmpeg.exe(), "-v", "error", "-f", "lavfi", "-i", "sine=f=300:d=4", "-f", "lavfi", "-i",
                    "sine=f=600:d=4", "-filter_complex", "concat=n=2:v=0:a=1", str(clip)], check=True)
    result = emo.sing(images.astronaut(), clip, engine="warp", size=256, start="0:05", end=7.5, out=tmp_path / "a.mp4")
    assert result.seconds == pytest.approx(2.5, abs=0.05) and not result.notices[1:]
    assert _dominant_hz(result.video, 0.2, 2.0) == pytest.approx(600, abs=10)
    result = emo.sing(images.astronaut(), clip, engine="warp", size=256, start=1, end="2:00", out=tmp_path / "b.mp4")
    assert result.seconds == pytest.approx(7.0, abs=0.05)
    assert _dominant_hz(result.video, 0.2, 2.5) == pytest.approx(300, abs=10)
    assert _dominant_hz(result.video, 3.5, 3.0) == pytest.approx(600, abs=10)
    with pytest.raises(UserError, match=r"The start \(9 s\) is after the end of the audio"):
        emo.sing(images.astronaut(), clip, engine="warp", size=256, start=9, out=tmp_path / "c.mp4")
    with pytest.raises(UserError, match=r"The end \(2 s\) must come after the start \(3 s\)"):
        emo.sing(images.astronaut(), clip, engine="warp", size=256, start=3, end=2, out=tmp_path / "d.mp4")
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == ["a.mp4", "b.mp4"]


@pytest.mark.parametrize("text, seconds", [("75", 75.0), ("1:15", 75.0), ("1:15.5", 75.5), (" 0:07 ", 7.0),
                                           (12, 12.0), (2.5, 2.5), ("", None), (None, None)])
def test_times_are_read_as_people_write_them(text, seconds):
    assert parse_time(text, "start", default=None) == seconds


@pytest.mark.slow
def test_progress_says_how_long_is_left(tmp_path):
    seen = []
    emo.sing(images.astronaut(), emo.list_songs()[0].id, engine="warp", size=256, out=tmp_path / "v.mp4",
             progress=lambda fraction, message: seen.append(message))
    lefts = [m for m in seen if m.startswith("Animating frame") and " left" in m]
    assert lefts and all(re.search(r", about (\d+ s|\d+:\d\d) left$", m) for m in lefts), lefts[-3:]


@pytest.mark.parametrize("kwargs, message", [({"motion": 2}, "Head motion must be a number from 0 to 1"),
                                             ({"seed": -1}, "seed must be a whole number from 0"),
                                             ({"size": 500}, "Video size must be one of"),
                                             ({"engine": "magic"}, "Unknown engine")])
def test_bad_options_are_explained(tmp_path, kwargs, message):
    with pytest.raises(UserError, match=message):
        emo.sing(images.astronaut(), emo.list_songs()[0].id, out=tmp_path / "x.mp4", **kwargs)
    assert not list(tmp_path.iterdir())


def cli(*args, lang: str = "C.UTF-8"):
    """The command line as a user in locale `lang` runs it (English unless told otherwise, whatever this machine's)."""
    env = {**{k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}, "LANG": lang}
    return subprocess.run([sys.executable, "-m", "emo", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env=env)


@pytest.mark.slow
def test_cli_sing_check_and_songs(tmp_path, intro_song):
    photo = tmp_path / "me.png"
    from PIL import Image

    Image.fromarray(images.astronaut()).save(photo)
    out = tmp_path / "out.mp4"
    done = cli("sing", photo, intro_song.id, "-o", out, "--engine", "warp", "--size", "256", "--seed", "2", "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out) and out.stat().st_size > 10_000
    assert cli("check", photo).returncode == 0
    listing = cli("songs")
    assert listing.returncode == 0 and all(s.id in listing.stdout for s in emo.list_songs())


@pytest.mark.slow
def test_cli_bad_inputs_exit_2_with_one_line(tmp_path):
    cat = tmp_path / "cat.png"
    from PIL import Image

    Image.fromarray(images.no_face()["cat"]).save(cat)
    cases = [cli("check", cat), cli("sing", cat, emo.list_songs()[0].id, "-o", tmp_path / "o.mp4", "-q"),
             cli("sing", cat, "../../etc/passwd", "-o", tmp_path / "o.mp4", "-q"),
             cli("check", tmp_path / "missing.jpg")]
    for done in cases:
        assert done.returncode == 2, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in done.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_cli_speaks_chinese_when_lang_says_so(tmp_path):
    cat = tmp_path / "猫.png"
    from PIL import Image

    Image.fromarray(images.no_face()["cat"]).save(cat)
    refused = cli("check", cat, lang="zh_CN.UTF-8")
    assert refused.returncode == 2 and refused.stderr.strip() == f"错误：{face_mod.NO_FACE.text('zh')}", refused.stderr
    listing = cli("songs", lang="zh_CN.UTF-8")
    assert "生日快乐" in listing.stdout and "Happy Birthday" not in listing.stdout
    assert "生成唱歌视频" in cli("--help", lang="zh_CN.UTF-8").stdout


@pytest.mark.slow
def test_app_handler_generates_and_explains_rejections(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "OUTPUTS", tmp_path / "outputs")
    example = app.EXAMPLES[0]
    video, status = answer(app, example, next(iter(app.SONGS)), None, 0.5, 0)
    assert video and video.endswith(".mp4") and "**warp** engine" in status
    cat = tmp_path / "cat.png"
    from PIL import Image

    Image.fromarray(images.no_face()["cat"]).save(cat)
    video, status = answer(app, str(cat), next(iter(app.SONGS)), None, 0.5, 0)
    assert video is None and "could not find a face" in status
    video, status = answer(app, None, next(iter(app.SONGS)), None, 0.5, 0)
    assert video is None and "Upload a photo" in status
    text, preview = app.song_card(next(iter(app.SONGS)))
    song = next(iter(app.SONGS.values()))
    assert song.title in text and f"{song.duration:.1f} s" in text and preview.endswith(".flac")
    assert app.gpu_seconds(example, song.id, None, 0.5, 0) > song.duration
    # ZeroGPU calls it with generate's own arguments, as Gradio passes them (the request and progress included).
    every = inspect.signature(app.generate).bind(example, song.id, None, 0.5, 0, "", "", None, None)
    assert app.gpu_seconds(*every.args, **every.kwargs) == app.gpu_seconds(example, song.id, None)


def test_engines_are_held_to_the_interface():
    """Every engine's frames, in a single photo's video or Sing together, pass `checked`: the portrait's shape, uint8,
    exactly n_frames of them."""
    job = SimpleNamespace(portrait=np.zeros((4, 4, 3), np.uint8), n_frames=2)
    good = np.zeros((4, 4, 3), np.uint8)
    assert len(list(checked(iter([good, good]), job))) == 2
    for frames in ([good], [good, good, good], [good, good.astype(np.float32)], [good, np.zeros((4, 5, 3), np.uint8)]):
        with pytest.raises(RuntimeError, match="engine produced"):
            list(checked(iter(frames), job))
