"""Provenance: every video says it is AI-generated, on screen and in its metadata, as EMO's own app does.

The host sets the visible text with the mark_text setting (EMO_MARK_TEXT; Latin script: Pillow's built-in font
has no CJK glyphs).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Iterator

import numpy as np

from . import settings


def metadata(engine: str) -> dict[str, str]:
    """Container tags written into the mp4."""
    mark = settings.current().mark_text
    return {"comment": f"{mark}: synthetic video made by the singing-portrait Space ({engine} engine)",
            "description": "AI-generated: a photo animated to sing by software; not a recording of a person."}


@lru_cache(maxsize=8)
def _label(text: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The label as (RGB, alpha) patches: white text on a soft dark pill, sized to the frame."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(max(10, size // 32))
    x0, y0, x1, y1 = font.getbbox(text)
    pad = max(3, size // 128)
    w, h = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    canvas = Image.new("LA", (w, h), (0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=h // 3, fill=(0, 110))
    draw.text((pad - x0, pad - y0), text, font=font, fill=(255, 235))
    la = np.asarray(canvas, np.float32)
    return np.repeat(la[..., :1], 3, axis=2), la[..., 1:] / 255.0


def stamp(frames: Iterable[np.ndarray], text: str | None = None) -> Iterator[np.ndarray]:
    """Blend the visible mark into the bottom-right corner of every frame."""
    text = text or settings.current().mark_text
    for frame in frames:
        rgb, alpha = _label(text, frame.shape[0])
        h, w = alpha.shape[:2]
        margin = max(4, frame.shape[0] // 64)
        y, x = frame.shape[0] - h - margin, frame.shape[1] - w - margin
        region = frame[y:y + h, x:x + w].astype(np.float32)
        frame[y:y + h, x:x + w] = (region * (1 - alpha) + rgb * alpha).astype(np.uint8)
        yield frame
