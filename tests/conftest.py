"""Shared fixtures and helpers: a real portrait prepared as the pipeline would, real preset songs, the app (imported
or served), and reading back the videos it makes."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from emo import audio as audio_mod
from emo import ffmpeg
from emo.face import check_photo, crop_portrait
from emo.songs import list_songs

from . import images
from .server import ROOT, start_app, stop_app


@pytest.fixture(scope="session")
def portrait():
    """(portrait 256x256, face in its pixels) from the astronaut photo; small, to keep the suite fast."""
    rgb, face = check_photo(images.astronaut())
    return crop_portrait(rgb, face, 256)


@pytest.fixture(scope="session")
def intro_song():
    """A preset whose voice starts after an instrumental intro."""
    return max(list_songs(), key=lambda s: s.voice_start)


@pytest.fixture(scope="session")
def intro_features(intro_song):
    return audio_mod.analyse(audio_mod.load_audio(intro_song.vocals), audio_mod.load_audio(intro_song.mix))


@pytest.fixture(scope="session")
def all_features():
    """Features of every preset."""
    return [audio_mod.analyse(audio_mod.load_audio(s.vocals), audio_mod.load_audio(s.mix)) for s in list_songs()]


def probe(path: Path) -> str:
    """ffmpeg's description of a media file (streams, codecs, duration)."""
    return subprocess.run([ffmpeg.exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                          text=True).stderr


def duration(path: Path) -> float:
    """A media file's duration in seconds, as its container states it."""
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", probe(path)).groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


def decode_frames(path: Path, size: int | tuple[int, int]) -> np.ndarray:
    """All video frames of an mp4 as (n, height, width, 3) uint8 RGB; `size` is the side of a square video, or
    (height, width)."""
    height, width = (size, size) if isinstance(size, int) else size
    raw = subprocess.run([ffmpeg.exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def answer(app, *inputs) -> tuple:
    """What the app's `generate` handler finally shows (video path or None, status): it is a generator, as Gradio
    runs it, whose earlier yields only carry progress."""
    *_, last = app.generate(*inputs, progress=lambda *args, **kwargs: None)
    return last


@pytest.fixture(scope="session")
def app():
    """app.py imported in this process: it sits beside the package, not in it, so it is loaded from its file."""
    spec = importlib.util.spec_from_file_location("app", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """app.py served on 127.0.0.1 for one test module, with the settings in the module's SERVER_ENV if it has one."""
    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    served = start_app(folder, **getattr(request.module, "SERVER_ENV", {}))
    yield served
    stop_app(served)


@pytest.fixture
def client_temp_dir(tmp_path, monkeypatch):
    """gradio_client leaves an empty folder in the temp directory per download: keep them in this test's tmp_path.
    Modules whose tests download with gradio_client use it for every test (`pytest.mark.usefixtures`)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
