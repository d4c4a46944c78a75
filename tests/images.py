"""Test images built from the photos bundled with scikit-image (no downloads), as arrays or encoded files.

astronaut: Eileen Collins, NASA, public domain. chelsea (a cat), coffee: CC0. rocket: public domain.
In the astronaut photo the face spans x 179-272, y 83-178 (jaw width about 93 px).
"""
from __future__ import annotations

import io
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image
from skimage import data

ORIENTATION = 0x0112  # EXIF tag


@lru_cache(maxsize=None)
def _astronaut() -> np.ndarray:
    rgb = data.astronaut()
    rgb.flags.writeable = False
    return rgb


def astronaut() -> np.ndarray:
    """One frontal face, 512 x 512."""
    return _astronaut().copy()


def no_face() -> dict[str, np.ndarray]:
    return {"cat": data.chelsea(), "coffee": data.coffee(), "rocket": data.rocket()}


def two_faces() -> np.ndarray:
    """The astronaut twice, side by side and mirrored: two faces of the same size."""
    rgb = astronaut()
    return np.ascontiguousarray(np.hstack([rgb, rgb[:, ::-1]]))


def big_and_small_face() -> np.ndarray:
    """A close-up of the astronaut's head beside the photo's own, smaller head (about 3x less area)."""
    rgb = astronaut()
    big = cv2.resize(rgb[0:300, 100:350], None, fx=1.7, fy=1.7, interpolation=cv2.INTER_CUBIC)  # 425 x 510
    small = rgb[40:240, 150:300]  # the head at its own size, 150 x 200
    canvas = np.full((big.shape[0], big.shape[1] + small.shape[1] + 20, 3), 200, np.uint8)
    canvas[:, : big.shape[1]] = big
    canvas[150:350, big.shape[1] + 20:] = small
    return canvas


def cheek_to_cheek() -> np.ndarray:
    """The astronaut's head and its mirror image side by side, their hair touching: a couple's photo."""
    head = astronaut()[0:330, 150:300]
    canvas = np.full((330, 450, 3), 200, np.uint8)
    canvas[:, 100:250] = head
    canvas[:, 200:350] = head[:, ::-1]
    return canvas


def tiny_face() -> np.ndarray:
    """The whole astronaut photo at 0.75x (face about 70 px wide) in the middle of a 900 x 900 grey canvas."""
    small = cv2.resize(astronaut(), None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
    canvas = np.full((900, 900, 3), 190, np.uint8)
    top = left = (900 - small.shape[0]) // 2
    canvas[top: top + small.shape[0], left: left + small.shape[1]] = small
    return canvas


def cut_off_face() -> dict[str, np.ndarray]:
    """The face cut by the left border (a fifth of it missing) or by the bottom border (the chin missing)."""
    rgb = astronaut()
    return {"left": np.ascontiguousarray(rgb[:, 200:]), "chin": np.ascontiguousarray(rgb[:160])}


def face_near_left_edge() -> np.ndarray:
    """The whole face fits, but the ideal square frame around it would leave the photo on the left and the top."""
    return np.ascontiguousarray(astronaut()[40:, 150:])


def face_filling_photo() -> np.ndarray:
    """A close-up: forehead to chin and ear to ear, no hair, no shoulders (upscaled 4x to 520 x 520)."""
    return cv2.resize(astronaut()[60:190, 160:290], None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)


# ------------------------------------------------------------------------------------------------- encoded files


def encode(image: Image.Image | np.ndarray, fmt: str, **params) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg(rgb: np.ndarray | None = None, quality: int = 92) -> bytes:
    return encode(astronaut() if rgb is None else rgb, "JPEG", quality=quality)


def greyscale_png() -> bytes:
    return encode(Image.fromarray(astronaut()).convert("L"), "PNG")


def cmyk_jpeg() -> bytes:
    return encode(Image.fromarray(astronaut()).convert("CMYK"), "JPEG", quality=95)


def palette_png() -> bytes:
    return encode(Image.fromarray(astronaut()).convert("P", palette=Image.Palette.ADAPTIVE), "PNG")


def rgba_png(transparent_columns: int = 100) -> bytes:
    """The astronaut with the left `transparent_columns` fully transparent."""
    alpha = np.full(astronaut().shape[:2], 255, np.uint8)
    alpha[:, :transparent_columns] = 0
    return encode(np.dstack([astronaut(), alpha]), "PNG")


def exif_rotated_jpeg() -> bytes:
    """Stored lying on its side, as phones do, with the EXIF tag (6: rotate 90 clockwise) that stands it up."""
    sideways = Image.fromarray(np.ascontiguousarray(np.rot90(astronaut(), k=1)))  # turned 90 anticlockwise
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    return encode(sideways, "JPEG", quality=92, exif=exif.tobytes())


def grey16_png() -> bytes:
    """16-bit greyscale PNG (values spread over 0..65535)."""
    grey = np.asarray(Image.fromarray(astronaut()).convert("L")).astype(np.uint16) * 257
    return encode(Image.fromarray(grey), "PNG")


def rgb16_png() -> bytes:
    """16-bit RGB PNG (Pillow cannot write one; OpenCV can, in BGR order)."""
    bgr16 = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR).astype(np.uint16) * 257
    return cv2.imencode(".png", bgr16)[1].tobytes()


def animated_gif() -> bytes:
    """Two frames: the astronaut, then black."""
    frames = [Image.fromarray(astronaut()), Image.new("RGB", (512, 512))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def large_jpeg() -> bytes:
    """A 4096 x 3072 photo (12.6 megapixels) with the face near the middle: loads downscaled to 2048 wide."""
    canvas = np.full((3072, 4096, 3), 180, np.uint8)
    canvas[1000:2536, 1280:2816] = cv2.resize(astronaut(), (1536, 1536), interpolation=cv2.INTER_CUBIC)
    return jpeg(canvas, quality=85)


def huge_png() -> bytes:
    """63 megapixels (9000 x 7000, one bit per pixel: a few kB on disk, far more in memory)."""
    return encode(Image.new("1", (9000, 7000)), "PNG")


def one_pixel_png() -> bytes:
    return encode(Image.new("RGB", (1, 1), (128, 128, 128)), "PNG")


def truncated_jpeg() -> bytes:
    full = jpeg()
    return full[: len(full) // 2]


def text_file() -> bytes:
    return b"This is a note, not a photo.\n"


def heic_header() -> bytes:
    """The first bytes of an iPhone HEIC file (an ISO media 'ftyp' box of brand 'heic')."""
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
