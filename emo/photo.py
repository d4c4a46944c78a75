"""Photo loading: any upload (path, bytes, PIL image, array) -> an upright H x W x 3 uint8 RGB array.

Everything a phone, a scanner or an image editor may hand us is normalised here: EXIF orientation, transparency,
greyscale, palettes, 16-bit, CMYK, animations (first frame). Problems come back as a ``PhotoError`` with one plain
sentence, never a traceback.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from .errors import PhotoError

MAX_SIDE = 2048  # long side after loading: more detail than any engine uses, and detection stays fast
MIN_SIDE = 64  # short side below this cannot hold a usable face
MAX_MEGAPIXELS = 60  # refuse before decoding: a decompression bomb or a panorama would exhaust memory
BACKGROUND = (200, 200, 200)  # transparent areas become a light studio grey

FORMATS_HINT = "Upload a JPEG, PNG or WebP photo of one face."
NOT_AN_IMAGE = f"This file is not an image we can read. {FORMATS_HINT}"
EMPTY = f"This file is empty. {FORMATS_HINT}"
DAMAGED = ("This image file is damaged or incomplete (perhaps the upload was cut short). "
           "Upload the photo again, or save it anew as JPEG or PNG.")
HEIC = ("HEIC photos (the iPhone default) cannot be read here. "
        "Export the photo as JPEG (or set the camera to 'Most Compatible') and upload it again.")
NO_FILE = "The photo file '{name}' does not exist. " + FORMATS_HINT


def too_large(width: int | None = None, height: int | None = None) -> str:
    if width and height:
        size = f"{width} x {height} pixels, {width * height / 1e6:.0f} megapixels"
    else:
        size = f"over {MAX_MEGAPIXELS} megapixels"
    return (f"This image is too large ({size}). "
            f"Upload a photo of at most {MAX_MEGAPIXELS} megapixels; a phone photo or a screenshot is fine.")


def too_small(width: int, height: int) -> str:
    return (f"This image is too small ({width} x {height} pixels). Upload a photo at least {MIN_SIDE} pixels on its "
            "shorter side; a headshot of 512 pixels or more works best.")


def load_photo(src: str | Path | bytes | Image.Image | np.ndarray) -> np.ndarray:
    """Read a photo into an upright H x W x 3 uint8 RGB array whose long side is at most MAX_SIDE."""
    if isinstance(src, np.ndarray):
        rgb = _array_to_rgb(src)
    elif isinstance(src, Image.Image):
        rgb = _decode(src)
    elif isinstance(src, (bytes, bytearray, memoryview)):
        rgb = _decode_bytes(bytes(src))
    elif isinstance(src, (str, Path)):
        rgb = _decode_bytes(_read_file(Path(src)))
    else:
        raise TypeError(f"load_photo() takes a path, bytes, a PIL image or an array, not {type(src).__name__}")
    return _fit(rgb)


def _read_file(path: Path) -> bytes:
    if not path.is_file():
        raise PhotoError(NO_FILE.format(name=path.name))
    return path.read_bytes()


def _decode_bytes(data: bytes) -> np.ndarray:
    if not data:
        raise PhotoError(EMPTY)
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1"):
        raise PhotoError(HEIC)
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only; _check_size refuses huge ones before decoding
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours: the header is all it read
        raise PhotoError(too_large()) from exc
    except Exception as exc:  # Pillow's plugins raise many types for junk input; all mean "not an image"
        raise PhotoError(NOT_AN_IMAGE) from exc
    return _decode(image)


def _decode(image: Image.Image) -> np.ndarray:
    """Decode (first frame only), turn upright and convert to RGB, checking the size before paying for it."""
    _check_size(*image.size)
    _draft_for_speed(image)
    try:
        image.load()
    except Exception as exc:  # truncated or corrupt data: Pillow raises OSError, SyntaxError, ValueError, ...
        raise PhotoError(DAMAGED) from exc
    return _pil_to_rgb(_upright(image))


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_MEGAPIXELS * 1_000_000:
        raise PhotoError(too_large(width, height))
    if min(width, height) < MIN_SIDE:
        raise PhotoError(too_small(width, height))


def _draft_for_speed(image: Image.Image) -> None:
    """Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 while decoding; it keeps at least the size asked for."""
    width, height = image.size
    scale = MAX_SIDE / max(width, height)
    if image.format == "JPEG" and scale < 1:
        image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block must not cost the photo: show it as stored
        return image


def _pil_to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _array_to_rgb(np.asarray(image))
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        return _array_to_rgb(np.asarray(image.convert("RGBA")))
    try:
        return np.asarray(image.convert("RGB"))
    except Exception as exc:  # exotic modes Pillow cannot convert (LAB, some TIFF layouts)
        raise PhotoError(f"This image uses a colour format we cannot convert ({image.mode}). {FORMATS_HINT}") from exc


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    """Any numeric H x W, H x W x 1/3/4 array -> uint8 RGB (alpha flattened onto BACKGROUND)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise PhotoError(f"This image has an unexpected shape {array.shape}. {FORMATS_HINT}")
    _check_size(array.shape[1], array.shape[0])
    array = _to_uint8(array)
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 4:
        return _flatten_alpha(array)
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


def _flatten_alpha(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    rgb = rgba[:, :, :3].astype(np.float32) * alpha + np.float32(BACKGROUND) * (1.0 - alpha)
    return rgb.round().astype(np.uint8)


def _fit(rgb: np.ndarray) -> np.ndarray:
    """Scale down so the long side is at most MAX_SIDE (area averaging: no aliasing)."""
    height, width = rgb.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
