"""load_photo: every kind of upload becomes an upright uint8 RGB array, or a PhotoError with a plain sentence."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emo import photo
from emo.errors import PhotoError, UserError
from emo.photo import BACKGROUND, MAX_SIDE, load_photo
from tests import images


def grey(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).convert("L"))


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def assert_rgb(rgb: np.ndarray, shape=(512, 512, 3)) -> None:
    assert rgb.dtype == np.uint8 and rgb.shape == shape and rgb.flags.c_contiguous


def error_of(src) -> str:
    with pytest.raises(PhotoError) as caught:
        load_photo(src)
    return caught.value.message


# ------------------------------------------------------------------------------------------------ what is read


def test_every_source_type_gives_the_same_pixels(tmp_path):
    png = images.encode(images.astronaut(), "PNG")
    path = tmp_path / "face.png"
    path.write_bytes(png)
    expected = images.astronaut()
    for src in (str(path), path, png, bytearray(png), Image.open(path), expected.copy()):
        rgb = load_photo(src)
        assert_rgb(rgb)
        assert np.array_equal(rgb, expected), type(src)


def test_jpeg_colours_survive():
    assert mean_diff(load_photo(images.jpeg()), images.astronaut()) < 3


def test_greyscale_becomes_three_equal_channels():
    rgb = load_photo(images.greyscale_png())
    assert_rgb(rgb)
    assert np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
    assert np.array_equal(rgb[..., 0], grey(images.astronaut()))


def test_cmyk_jpeg_is_converted_to_rgb():
    rgb = load_photo(images.cmyk_jpeg())
    assert_rgb(rgb)
    assert mean_diff(rgb, images.astronaut()) < 6


def test_palette_image_is_expanded():
    rgb = load_photo(images.palette_png())
    assert_rgb(rgb)
    assert mean_diff(rgb, images.astronaut()) < 8


def test_transparency_is_flattened_onto_the_neutral_background():
    rgb = load_photo(images.rgba_png(transparent_columns=100))
    assert_rgb(rgb)
    assert (rgb[:, :100] == BACKGROUND).all()
    assert np.array_equal(rgb[:, 100:], images.astronaut()[:, 100:])


def test_exif_orientation_is_applied():
    rgb = load_photo(images.exif_rotated_jpeg())
    assert_rgb(rgb)
    upright, sideways = images.astronaut(), np.rot90(images.astronaut(), k=1)
    assert mean_diff(rgb, upright) < 3 < mean_diff(rgb, sideways)


def test_16_bit_greyscale_is_scaled_not_clipped():
    rgb = load_photo(images.grey16_png())
    assert_rgb(rgb)
    assert np.abs(rgb[..., 0].astype(int) - grey(images.astronaut())).max() <= 1


def test_16_bit_rgb():
    rgb = load_photo(images.rgb16_png())
    assert_rgb(rgb)
    assert np.abs(rgb.astype(int) - images.astronaut()).max() <= 1


def test_animated_gif_gives_its_first_frame():
    rgb = load_photo(images.animated_gif())
    assert_rgb(rgb)
    assert mean_diff(rgb, images.astronaut()) < 10  # GIF's 256 colours; the second frame is black


def test_large_photo_is_scaled_down_to_max_side():
    rgb = load_photo(images.large_jpeg())
    assert_rgb(rgb, (1536, MAX_SIDE, 3))
    face_area = rgb[500:1268, 640:1408]
    expected = np.asarray(Image.fromarray(images.astronaut()).resize((768, 768), Image.Resampling.BOX))
    assert mean_diff(face_area, expected) < 6


@pytest.mark.parametrize("array, expected", [
    (np.full((80, 90), 0.5, np.float32), 128),  # floats in 0..1
    (np.full((80, 90, 3), 200.0), 200),  # floats in 0..255
    (np.full((80, 90, 1), 65535, np.uint16), 255),  # 16-bit
    (np.full((80, 90), True), 255),
    (np.dstack([np.full((80, 90, 3), 10, np.uint8), np.zeros((80, 90), np.uint8)]), BACKGROUND[0]),  # clear RGBA
])
def test_arrays_of_other_types(array, expected):
    rgb = load_photo(array)
    assert_rgb(rgb, (80, 90, 3))
    assert (rgb == expected).all()


def test_wrong_argument_type_is_a_programming_error():
    with pytest.raises(TypeError):
        load_photo(12)


# ------------------------------------------------------------------------------------------------ what is refused


def test_huge_image_is_refused_before_decoding():
    message = error_of(images.huge_png())
    assert "too large" in message and "63 megapixels" in message and "at most 60 megapixels" in message


def test_tiny_image_is_refused():
    message = error_of(images.one_pixel_png())
    assert "too small (1 x 1 pixels)" in message and "64 pixels" in message
    assert "too small" in error_of(np.zeros((40, 400, 3), np.uint8))


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(images.text_file())
    assert error_of(path) == photo.NOT_AN_IMAGE


def test_truncated_jpeg():
    assert error_of(images.truncated_jpeg()) == photo.DAMAGED


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert error_of(path) == photo.EMPTY


def test_missing_file(tmp_path):
    assert "does not exist" in error_of(tmp_path / "nothing.jpg")


def test_heic_gets_its_own_advice():
    assert error_of(images.heic_header()) == photo.HEIC


def test_bad_array_shape():
    assert "unexpected shape" in error_of(np.zeros((100, 100, 2), np.uint8))


def test_every_refusal_has_its_own_plain_sentence(tmp_path):
    missing = tmp_path / "gone.jpg"
    messages = [error_of(src) for src in (images.huge_png(), images.one_pixel_png(), images.text_file(),
                                          images.truncated_jpeg(), b"", missing, images.heic_header())]
    assert len(set(messages)) == len(messages)
    for message in messages:
        assert message[0].isupper() and message.endswith(".") and "Traceback" not in message
        assert "Upload" in message or "upload" in message
    assert issubclass(PhotoError, UserError)


def test_examples_load(tmp_path):
    for path in sorted(Path(__file__).parents[1].joinpath("examples").glob("*.jpg")):
        rgb = load_photo(path)
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and min(rgb.shape[:2]) >= 512
