"""Photo loading: any upload (path, bytes, PIL image, array) -> an upright H x W x 3 uint8 RGB array.

Everything a phone, a scanner or an image editor may hand us is normalised here: EXIF orientation, transparency,
greyscale, palettes, 16-bit, CMYK, animations (first frame). Only the photo formats in FORMATS are opened (Pillow
reads dozens more, some through outside programs). A big image is scaled down right after decoding, before any
conversion, so the worst accepted file (60 megapixels) costs one decoded copy and no more. Problems come back as a
``PhotoError`` with one plain sentence, never a traceback.
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image

from .errors import PhotoError
from .messages import Message

MAX_SIDE = 2048  # long side after loading: more detail than any engine uses, and detection stays fast
MIN_SIDE = 64  # short side below this cannot hold a usable face
MAX_MEGAPIXELS = 60  # refuse before decoding: a decompression bomb or a panorama would exhaust memory
# Pillow decodes WebP through libwebp's animation decoder, which holds ~15 bytes a pixel (60 MP: 920 MB) and cannot
# scale while decoding; 20 MP (~310 MB) is beyond any camera's or browser's WebP.
MAX_MEGAPIXELS_OF = {"WEBP": 20}
BACKGROUND = (200, 200, 200)  # transparent areas become a light studio grey
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO")  # what cameras, phones, scanners and browsers write
# EXIF orientation -> the turn that stands the image up (the EXIF standard's table, as Pillow's exif_transpose uses)
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
ORIENTATION = 0x0112
STRIP_ROWS = 64  # output rows reduced at a time (see _reduce)

FORMATS_HINT = Message("photo.hint")
NOT_AN_IMAGE = Message("photo.not_image", hint=FORMATS_HINT)
EMPTY = Message("photo.empty", hint=FORMATS_HINT)
DAMAGED = Message("photo.damaged")
HEIC = Message("photo.heic")


def too_large(width: int | None = None, height: int | None = None, limit: int = MAX_MEGAPIXELS) -> Message:
    if width and height:
        return Message("photo.too_large_size", width=width, height=height, megapixels=width * height / 1e6,
                       limit=limit)
    return Message("photo.too_large", limit=limit)


def too_small(width: int, height: int) -> Message:
    return Message("photo.too_small", width=width, height=height, side=MIN_SIDE)


def load_photo(src: str | Path | bytes | Image.Image | np.ndarray) -> np.ndarray:
    """Read a photo into an upright H x W x 3 uint8 RGB array whose long side is at most MAX_SIDE."""
    if isinstance(src, np.ndarray):
        rgb = _array_to_rgb(src)
    elif isinstance(src, Image.Image):
        rgb = _decode(src)
    elif isinstance(src, (bytes, bytearray, memoryview)):
        rgb = _decode_file(io.BytesIO(bytes(src)))
    elif isinstance(src, (str, Path)):
        path = Path(src)
        if not path.is_file():
            raise PhotoError(Message("photo.no_file", name=path.name, hint=FORMATS_HINT))
        with open(path, "rb") as file:
            rgb = _decode_file(file)
    else:
        raise TypeError(f"load_photo() takes a path, bytes, a PIL image or an array, not {type(src).__name__}")
    return _fit(rgb)


def _decode_file(file: BinaryIO) -> np.ndarray:
    head = file.read(12)
    if not head:
        raise PhotoError(EMPTY)
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1"):
        raise PhotoError(HEIC)
    file.seek(0)
    try:
        image = Image.open(file, formats=FORMATS)  # reads the header only; _check_size refuses huge ones first
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours: the header is all it read
        raise PhotoError(too_large()) from exc
    except Exception as exc:  # Pillow's plugins raise many types for junk input; all mean "not an image"
        raise PhotoError(NOT_AN_IMAGE) from exc
    return _decode(image)


def _decode(image: Image.Image) -> np.ndarray:
    """Decode (first frame only), scale down, turn upright and convert to RGB, checking the size before paying."""
    _check_size(*image.size, MAX_MEGAPIXELS_OF.get(image.format, MAX_MEGAPIXELS))
    _draft_for_speed(image)
    try:
        image.load()
    except Exception as exc:  # truncated or corrupt data: Pillow raises OSError, SyntaxError, ValueError, ...
        raise PhotoError(DAMAGED) from exc
    turn = UPRIGHT.get(_orientation(image))
    small = _reduce(image)
    return _pil_to_rgb(small.transpose(turn) if turn is not None else small)


def _check_size(width: int, height: int, limit: int = MAX_MEGAPIXELS) -> None:
    if width * height > limit * 1_000_000:
        raise PhotoError(too_large(width, height, limit))
    if min(width, height) < MIN_SIDE:
        raise PhotoError(too_small(width, height))


def _draft_for_speed(image: Image.Image) -> None:
    """Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 while decoding; it keeps at least the size asked for."""
    width, height = image.size
    scale = MAX_SIDE / max(width, height)
    if image.format in ("JPEG", "MPO") and scale < 1:
        image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not cost the photo: show it as stored
        return 1


def _reduce(image: Image.Image) -> Image.Image:
    """Scale a decoded image down to MAX_SIDE on its long side by area averaging.

    First by an integer factor (box averaging), a strip of rows at a time: that keeps every conversion small, where
    palettes to colours, 16-bit to 32-bit, and the premultiplied alpha Pillow averages transparent pixels in would
    each cost a full-size copy. Then the small image is resized the rest of the way.
    """
    width, height = image.size
    factor = max(width, height) // MAX_SIDE
    if factor >= 2:
        mode = {"P": "RGBA" if "transparency" in image.info else "RGB", "PA": "RGBA", "1": "L"}.get(image.mode,
                                                                                                 image.mode)
        mode = "I" if mode.startswith("I;16") else mode  # Pillow averages 16-bit greyscale only as 32-bit
        out = Image.new(mode, (width // factor, height // factor))
        rows = STRIP_ROWS * factor
        for top in range(0, out.height * factor, rows):
            strip = image.crop((0, top, out.width * factor, min(top + rows, out.height * factor)))
            out.paste(strip.convert(mode).reduce(factor), (0, top // factor))
        image, (width, height) = out, out.size
    scale = MAX_SIDE / max(width, height)
    if scale >= 1:
        return image
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX)


def _pil_to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _array_to_rgb(np.asarray(image))
    try:
        if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
            return np.asarray(_flatten_alpha(image.convert("RGBA")))
        return np.asarray(image.convert("RGB"))
    except Exception as exc:  # exotic modes Pillow cannot convert (LAB, some TIFF layouts)
        raise PhotoError(Message("photo.colour_format", mode=image.mode, hint=FORMATS_HINT)) from exc


def _flatten_alpha(rgba: Image.Image) -> Image.Image:
    """Transparent areas onto BACKGROUND (uint8 compositing, no float copy)."""
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (*BACKGROUND, 255)), rgba).convert("RGB")


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    """Any numeric H x W, H x W x 1/3/4 array -> uint8 RGB (alpha flattened onto BACKGROUND)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise PhotoError(Message("photo.shape", shape=array.shape, hint=FORMATS_HINT))
    _check_size(array.shape[1], array.shape[0])
    array = _to_uint8(array)
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 4:
        return np.asarray(_flatten_alpha(Image.fromarray(np.ascontiguousarray(array))))
    return np.ascontiguousarray(array)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        # Floats are 0..1 by convention (scikit-image, torch); larger values mean 0..255.
        top = 1.0 if float(np.nanmax(array, initial=0.0)) <= 1.0 else 255.0
        return np.clip(np.nan_to_num(array) * (255.0 / top), 0, 255).round().astype(np.uint8)
    # Integers: 16-bit data (PNG, TIFF) spans 0..65535 even when stored as 32-bit 'I'.
    top = 255 if int(array.max(initial=0)) <= 255 else 65535
    return np.clip(array.astype(np.float32) * (255.0 / top), 0, 255).round().astype(np.uint8)


def _fit(rgb: np.ndarray) -> np.ndarray:
    """Scale down so the long side is at most MAX_SIDE (area averaging: no aliasing)."""
    height, width = rgb.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
