"""The encoder: what the viewer sees of a still background over a whole song."""
from __future__ import annotations

import wave

import numpy as np

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
