"""Bad inputs, through every door: whatever a user uploads gives a clear message or a correct video, never a traceback,
and leaves no temporary file behind.

Each case goes through the CLI (a subprocess, with its own TMPDIR) and, at the same time, through the app's handler
(in this process, with the pipeline's output folder and tempfile's directory pointed at empty folders), so the two
doors use both cores. Photo cases sing a 1.2 s clip and audio cases use a good photo, so every video is cheap; the
10-minute clip is the exception (cut to 30 s, with a notice). The photo cases then go through the served app too,
where Gradio's own image handling runs before the handler.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

import emo
from emo.pipeline import clock
from emo import face as face_mod
from emo import photo as photo_mod
from emo import settings
from emo.ffmpeg import exe as ffmpeg_exe

from . import images
from .conftest import ROOT, answer, duration, probe
from .server import files_under

MAX_SECONDS = settings.current().max_seconds  # the CLI and the app run with the same environment
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("client_temp_dir")]  # videos through the CLI and a served app

PRESET = emo.list_songs()[0].id
CLIP_S = 1.2  # the clip photo cases sing
FRAME = 1 / 25


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # the upload's name
    make: Callable[[Path], None]  # writes the file at the given path
    expect: str | tuple[float, float]  # a refusal's words (a regex), or the video's (min, max) duration in seconds


def _bytes(factory: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(factory())


def _ffmpeg(*args: str) -> Callable[[Path], None]:
    """Audio from ffmpeg's lavfi generators: `args` go between the input options and the output path."""
    def make(path: Path) -> None:
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args, str(path)], check=True, timeout=60)
    return make


@lru_cache(maxsize=None)  # both tests use it; it takes a second to make
def _fifty_megapixels() -> bytes:
    """8192 x 6144 (50.3 MP) with the astronaut's head enlarged 6x in the middle: loads downscaled, face ~140 px."""
    canvas = np.full((6144, 8192, 3), 170, np.uint8)
    canvas[1500:4572, 2560:5632] = cv2.resize(images.astronaut(), (3072, 3072), interpolation=cv2.INTER_CUBIC)
    return images.jpeg(canvas, quality=85)


def _bomb() -> bytes:
    """200 megapixels of one-bit zeros: a 24 kB PNG that would need 600 MB as RGB (Pillow itself balks at 179 MP)."""
    return images.encode(Image.new("1", (20000, 10000)), "PNG")


def _truncated_mp3(path: Path) -> None:
    """A 3 s mp3 with its last 40 % cut off, as an interrupted upload leaves it: the first ~1.8 s still decode."""
    whole = path.with_name("whole.mp3")
    _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=3", "-c:a", "libmp3lame", "-b:a", "128k")(whole)
    data = whole.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    whole.unlink()


def _mp3_stub(path: Path) -> None:
    """Only the first 300 bytes of an mp3 arrived: not one whole frame of sound."""
    _truncated_mp3(path)
    path.write_bytes(path.read_bytes()[:300])


def _ten_minute_mp3(path: Path) -> None:
    """10 minutes of mp3: 10 s encoded once, repeated 60 times (MP3 frames concatenate; encoding 600 s takes ~6 s)."""
    piece = path.with_name("piece.mp3")
    _ffmpeg("-f", "lavfi", "-i", "sine=f=220:d=10", "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0",
            "-id3v2_version", "0")(piece)
    path.write_bytes(piece.read_bytes() * 60)
    piece.unlink()


def _clip(seconds: float) -> tuple[float, float]:
    return seconds - FRAME - 0.03, seconds + FRAME + 0.05


PHOTO_CASES = [
    Case("empty file", "photo.jpg", _bytes(lambda: b""), re.escape(photo_mod.EMPTY)),
    Case("text renamed .jpg", "photo.jpg", _bytes(images.text_file), re.escape(photo_mod.NOT_AN_IMAGE)),
    Case("truncated JPEG", "photo.jpg", _bytes(images.truncated_jpeg), re.escape(photo_mod.DAMAGED)),
    Case("decompression bomb", "bomb.png", _bytes(_bomb), r"This image is too large \(over 60 megapixels\)"),
    Case("63-megapixel PNG", "huge.png", _bytes(images.huge_png), r"too large \(9000 x 7000 pixels, 63 megapixels\)"),
    Case("50-megapixel photo", "big.jpg", _bytes(_fifty_megapixels), _clip(CLIP_S)),
    Case("animated GIF", "photo.gif", _bytes(images.animated_gif), _clip(CLIP_S)),
    # No HEIC decoder is installed (pillow-heif is not a dependency): the iPhone default gets its own advice.
    Case("HEIC", "IMG_0001.heic", _bytes(images.heic_header), re.escape(photo_mod.HEIC)),
    Case("PNG with alpha", "cutout.png", _bytes(images.rgba_png), _clip(CLIP_S)),
    Case("CMYK JPEG", "print.jpg", _bytes(images.cmyk_jpeg), _clip(CLIP_S)),
    Case("EXIF-rotated JPEG", "phone.jpg", _bytes(images.exif_rotated_jpeg), _clip(CLIP_S)),
    Case("16-bit greyscale PNG", "scan.png", _bytes(images.grey16_png), _clip(CLIP_S)),
    Case("1x1 image", "pixel.png", _bytes(images.one_pixel_png), re.escape(photo_mod.too_small(1, 1))),
    Case("photo of a cup", "cup.png", _bytes(lambda: images.encode(images.no_face()["coffee"], "PNG")),
         re.escape(face_mod.NO_FACE)),
]

AUDIO_CASES = [
    Case("truncated mp3", "song.mp3", _truncated_mp3, (1.5, 2.0)),
    Case("mp3 cut to 300 bytes", "song.mp3", _mp3_stub, r"could not be read as audio"),
    # A valid WAV holding no samples.
    Case("0-second wav", "empty.wav", _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "0"),
         r"holds no sound \(0 s\)"),
    Case("0.5-second clip", "short.wav", _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=0.5"), r"only 0\.5 s long"),
    Case("silence", "silent.wav", _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "2"),
         r"The audio is silent"),
    Case("10-minute mp3", "album.mp3", _ten_minute_mp3, _clip(MAX_SECONDS)),
    Case("8 kHz ogg", "phone.ogg", _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=2:sample_rate=8000", "-c:a", "libvorbis"),
         _clip(2.0)),
    Case("96 kHz 24-bit flac", "studio.flac",
         _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=2:sample_rate=96000", "-c:a", "flac", "-sample_fmt", "s32"),
         _clip(2.0)),
    Case("6-channel m4a", "surround.m4a",
         _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=2", "-af", "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0",
                 "-c:a", "aac"), _clip(2.0)),
    Case("text renamed .mp3", "song.mp3", _bytes(images.text_file), r"could not be read as audio"),
    Case("empty m4a", "voice.m4a", _bytes(lambda: b""), r"could not be read as audio"),
]

CASES = [("photo", case) for case in PHOTO_CASES] + [("audio", case) for case in AUDIO_CASES]


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[Path, Path]:
    """(a good photo, a good 1.2 s clip): the half of each case that is not under test."""
    folder = tmp_path_factory.mktemp("good")
    Image.fromarray(images.astronaut()).save(folder / "astronaut.png")
    _ffmpeg("-f", "lavfi", "-i", f"sine=f=300:d={CLIP_S}")(folder / "clip.wav")
    return folder / "astronaut.png", folder / "clip.wav"


def _expect_video(case: Case, path: Path, notes: str, where: str) -> None:
    low, high = case.expect
    assert path.is_file(), where
    assert low <= duration(path) <= high, (where, duration(path), case.expect)
    assert "Video: h264" in probe(path) and "Audio: aac" in probe(path), where
    if high > MAX_SECONDS:
        assert f"only its first {clock(MAX_SECONDS)} are used" in notes, (where, notes)


@pytest.mark.parametrize("kind, case", CASES, ids=[f"{kind}: {case.id}" for kind, case in CASES])
def test_cli_and_handler(kind, case, app, good, tmp_path, monkeypatch):
    upload = tmp_path / "upload" / case.file
    upload.parent.mkdir()
    case.make(upload)
    photo, song = (upload, good[1]) if kind == "photo" else (good[0], upload)

    cli_out, cli_tmp, app_out, app_tmp = (tmp_path / name for name in ("cli-out", "cli-tmp", "app-out", "app-tmp"))
    for folder in (cli_out, cli_tmp, app_tmp):
        folder.mkdir()
    command = [sys.executable, "-m", "emo", "sing", str(photo), str(song), "-o", str(cli_out / "video.mp4"),
               "--engine", "warp", "--size", "256", "-q"]
    cli = subprocess.Popen(command, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={**os.environ, "TMPDIR": str(cli_tmp)})
    try:
        monkeypatch.setattr(app, "OUTPUTS", app_out)
        monkeypatch.setattr(tempfile, "tempdir", str(app_tmp))
        video, status = answer(app, str(photo), PRESET, str(song) if kind == "audio" else str(good[1]), 0.5, 0)
        stdout, stderr = cli.communicate(timeout=240)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
    print(f"\n{kind}: {case.id}\n  CLI exit {cli.returncode}: {(stderr.strip() or stdout.strip())[:160]}"
          f"\n  app: {'video, ' if video else ''}{status[:160]}")

    assert "Traceback" not in stderr
    if isinstance(case.expect, str):  # refused in words, by both doors, with nothing written
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert cli.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), stderr
        assert re.search(case.expect, lines[0]), lines[0]
        assert video is None and status.startswith("⚠️") and re.search(case.expect, status), status
        assert files_under(cli_out) == [] and files_under(app_out) == []
    else:  # a correct video from both doors, and only the video
        assert cli.returncode == 0 and stdout.strip() == str(cli_out / "video.mp4"), stderr
        _expect_video(case, cli_out / "video.mp4", stderr, "CLI")
        assert files_under(cli_out) == [cli_out / "video.mp4"]
        assert video and status.startswith("Done:"), status
        _expect_video(case, Path(video), status, "app")
        assert files_under(app_out) == [Path(video)]  # no partial files
    assert files_under(cli_tmp) == [] and files_under(app_tmp) == []


# ------------------------------------------------------------------------------------------------ the served app

@pytest.mark.parametrize("case", PHOTO_CASES, ids=[c.id for c in PHOTO_CASES])
def test_served_app_gives_the_same_answer(case, server, good, tmp_path):
    upload = tmp_path / case.file
    case.make(upload)
    client = Client(server.url, verbose=False, download_files=str(tmp_path / "downloads"))
    video, status = client.predict(handle_file(str(upload)), PRESET, handle_file(str(good[1])), 0.5, 0,
                                   api_name="/generate")
    if isinstance(case.expect, str):
        assert video is None and re.search(case.expect, status), status
    else:
        path = Path(video["video"] if isinstance(video, dict) else video)
        assert status.startswith("Done:") and case.expect[0] <= duration(path) <= case.expect[1], status


def test_served_app_leaves_no_temporary_files(server):
    """After all those requests the temp directory holds finished videos only (uploads are Gradio's, swept hourly)."""
    left = files_under(server.temp_dir)
    assert all(path.parent == server.output_dir and path.suffix == ".mp4" for path in left), left
