"""The encoder: what the viewer sees of a still background over a whole song."""
from __future__ import annotations

import subprocess
import wave

import numpy as np

from emo import ffmpeg
from emo.video import write_video

from .conftest import decode_frames


def test_a_still_background_stays_still_across_keyframes(tmp_path):
    """A grainy backdrop behind a moving face: x264's default 10 s keyframes re-encoded the grain differently each
    time, a jump of 2 grey levels every 10 s all over a still background (1 per frame at most now)."""
    fps, n, size = 25, 14 * 25, 192
    rng = np.random.default_rng(0)
    backdrop = (128 + 24 * rng.standard_normal((size, size, 3))).clip(0, 255).astype(np.uint8)

    def frames():
        for i in range(n):
            frame = backdrop.copy()
            y = 60 + int(20 * np.sin(i / 5))
            frame[y:y + 60, 66:126] = (200, 150, 120)  # the moving face
            yield frame

    audio = tmp_path / "silence.wav"
    with wave.open(str(audio), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes(bytes(2 * 16000 * n // fps))
    video = decode_frames(write_video(tmp_path / "v.mp4", frames(), fps, n, audio), size).astype(np.int16)
    band = np.concatenate([video[:, :, :24], video[:, :, -24:]], axis=2)  # the sides, clear of the face
    change = np.abs(np.diff(band, axis=0)).mean((1, 2, 3))
    assert len(video) == n and change.max() < 1.0, change.max()


def test_the_stream_says_which_colours_its_numbers_mean(tmp_path):
    """Frames go in as BT.601 YUV (limited range). Untagged, a browser takes a video 720 lines high or more for
    BT.709 (Chrome), and a 768 video's reds and greens shifted there; tagged, every player decodes what was meant."""
    fps, n, size = 25, 5, 768
    frame = np.zeros((size, size, 3), np.uint8)
    frame[:, : size // 3] = (200, 40, 40)
    frame[:, size // 3: 2 * size // 3] = (40, 170, 60)
    frame[:, 2 * size // 3:] = (230, 190, 160)
    audio = tmp_path / "silence.wav"
    with wave.open(str(audio), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes(bytes(2 * 16000 * n // fps))
    path = write_video(tmp_path / "v.mp4", (frame for _ in range(n)), fps, n, audio)
    info = subprocess.run([ffmpeg.exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    stream = next(line for line in info.splitlines() if "Video:" in line)
    assert "yuv420p(tv, smpte170m" in stream, stream
    decoded = decode_frames(path, size)[-1].astype(int)
    for block in range(3):  # (the middle of each: 4:2:0 softens the seams)
        middle = slice(block * size // 3 + 32, (block + 1) * size // 3 - 32)
        assert np.abs(decoded[:, middle] - frame[:, middle]).max() <= 3, block
