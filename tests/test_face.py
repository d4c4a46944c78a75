"""Face check and portrait crop on real photos (scikit-image's bundled images), offline."""
from __future__ import annotations

import importlib.machinery
import math
import os
import subprocess
import sys
import types
from dataclasses import replace

import cv2
import numpy as np
import pytest

from emo import face as face_mod
from emo import photo, settings
from emo.errors import EngineUnavailable, FaceError
from emo.face import (CUT_OFF, DOMINANT_NOTICE, EDGE_NOTICE, MAX_ROLL_DEG, MAX_YAW_DEG, MIN_FACE_PX, NO_FACE,
                      Face, several_notice, small_notice,
                      check_face, check_photo, crop_portrait, detect_face, landmarks_backend)
from emo.settings import SettingError, Settings

from . import images
from .conftest import ROOT


@pytest.fixture(autouse=True)
def dlib_landmarks(monkeypatch, tmp_path_factory):
    """Every test sees a machine without face-alignment weights, unless it puts them there itself."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
    with settings.using(landmarks="auto"):
        yield


@pytest.fixture(scope="module")
def astronaut_face() -> Face:
    return detect_face(images.astronaut())


def refusal(rgb: np.ndarray) -> str:
    with pytest.raises(FaceError) as caught:
        detect_face(rgb)
    return caught.value.message


def rotate_points(points: np.ndarray, degrees: float, center: np.ndarray) -> np.ndarray:
    angle = math.radians(degrees)
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], np.float32)
    return ((points - center) @ turn.T + center).astype(np.float32)


# ---------------------------------------------------------------------------------------------------- accepted


def test_astronaut_is_accepted(astronaut_face):
    face = astronaut_face
    assert face.landmarks.shape == (68, 2) and face.landmarks.dtype == np.float32
    assert face.notices == () and face.score > 1.0
    assert 88 < face.width < 98  # her jaw spans x 179-272
    x0, y0, x1, y1 = face.box
    assert 170 < x0 < 190 and 255 < x1 < 275 and 75 < y0 < 95 and 160 < y1 < 180
    left_eye, right_eye = face.eye_centers
    assert 195 < left_eye[0] < 212 < 238 < right_eye[0] < 255 and 95 < left_eye[1] < 110
    assert abs(face.yaw) < 5 and abs(face.roll) < 6


@pytest.mark.parametrize("name", ["eileen_collins.jpg", "grace_hopper.jpg"])
def test_examples_are_accepted(name):
    rgb, face = check_photo(ROOT / "examples" / name)
    assert face.width > 150 and face.notices == ()


@pytest.mark.parametrize("maker", [images.greyscale_png, images.cmyk_jpeg, images.rgba_png, images.grey16_png,
                                   images.animated_gif])
def test_face_found_in_every_photo_format(maker):
    rgb, face = check_photo(maker())
    assert 88 < face.width < 98


def test_exif_rotated_photo_is_checked_upright():
    rgb, face = check_photo(images.exif_rotated_jpeg())
    assert abs(face.roll) < 6  # lying on its side it would read 90 degrees, or find no face at all
    assert face.eye_centers[0][1] < face.landmarks[face_mod.CHIN, 1]


def test_clearly_dominant_face_is_used_with_a_notice():
    face = detect_face(images.big_and_small_face())
    assert face.notices == (DOMINANT_NOTICE,)
    assert face.width > 140 and face.box[0] < 425  # the close-up on the left, not the small head on the right


def test_moderate_tilt_is_accepted():
    rgb = images.astronaut()
    turn = cv2.getRotationMatrix2D((225.0, 130.0), -12, 1.0)  # 12 degrees clockwise about the face
    tilted = cv2.warpAffine(rgb, turn, (512, 512), borderMode=cv2.BORDER_REPLICATE)
    face = detect_face(tilted)
    assert 10 < face.roll - detect_face(rgb).roll < 14


# ---------------------------------------------------------------------------------------------------- refused


@pytest.mark.parametrize("name", ["cat", "coffee", "rocket"])
def test_no_face(name):
    assert refusal(images.no_face()[name]) == NO_FACE


def test_several_faces_of_similar_size_use_the_largest_with_a_notice():
    face = detect_face(images.two_faces())
    assert face.notices == (several_notice(2),) and "Sing together" in face.notices[0]


def test_a_small_face_is_accepted_with_a_notice_and_a_tiny_one_refused():
    face = detect_face(images.tiny_face())  # 70 px: a passport photo's face
    assert face.notices == (small_notice(face.width),) and 64 <= face.width < 80
    smaller = cv2.resize(images.tiny_face(), None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)  # 56 px
    message = refusal(smaller)
    assert message.startswith("The face is too small (5") and f"at least {MIN_FACE_PX} pixels" in message


def test_a_close_up_cut_by_the_frame_is_accepted_when_its_core_is_inside():
    """Brows at the top edge, the jaw's ends by the ears over the sides: a close-up selfie is accepted and framed
    with the border beyond the photo filled in."""
    rgb = cv2.resize(images.astronaut()[88:195, 170:285], None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    face = detect_face(rgb)
    outside = (face.landmarks < 0).any(1) | (face.landmarks[:, 0] > rgb.shape[1] - 1)
    assert outside.any() and not outside[face_mod.CORE_POINTS].any() and face.notices == ()
    _, in_frame = crop_portrait(rgb, face)
    assert in_frame.notices == (EDGE_NOTICE,)


def test_a_tight_crop_cutting_the_cheek_is_accepted():
    """A real press photo cropped through the cheek: the jaw's outline runs a few pixels past the edge (the old
    check refused it as cut off); eyes, nose, mouth and chin are inside. Framed with the sliver filled in."""
    rgb, face = check_photo(ROOT / "tests" / "data" / "whitehouse_tight_crop.jpg")
    outside = face.landmarks[:, 0] < 0
    assert outside[face_mod.JAW_SIDES].any()
    assert not outside[face_mod.CORE_POINTS][~np.isin(face_mod.CORE_POINTS, face_mod.JAW_SIDES)].any()
    _, in_frame = crop_portrait(rgb, face)
    assert in_frame.notices == (EDGE_NOTICE,)


def test_the_other_faces_of_a_couples_photo_come_along_in_the_frames_pixels():
    rgb = images.cheek_to_cheek()
    face = detect_face(rgb)
    assert len(face.neighbours) == 1
    _, in_frame = crop_portrait(rgb, face, 320)
    scale = in_frame.inter_ocular / face.inter_ocular
    offset = in_frame.landmarks[30] - face.landmarks[30] * scale
    assert np.allclose(in_frame.neighbours[0], face.neighbours[0] * scale + offset, atol=0.01)


@pytest.mark.parametrize("where", ["left", "chin"])
def test_face_cut_off_by_the_border(where):
    assert refusal(images.cut_off_face()[where]) == CUT_OFF


def nose_moved(face: Face, fraction: float) -> Face:
    """The face with its nose shifted along the eye line to `fraction` of the way between the jaw ends."""
    points = face.landmarks.copy()
    left, right = points[face_mod.JAW_LEFT], points[face_mod.JAW_RIGHT]
    target = left + fraction * (right - left)
    points[face_mod.NOSE] += (target - points[face_mod.NOSE_TIP])[None, :] * np.array([1, 0], np.float32)
    return replace(face, landmarks=points)


def test_yaw_reads_the_nose_between_the_jaw_ends(astronaut_face):
    """No turned photo ships offline: the astronaut's real landmarks with the nose moved as a turn moves it."""
    assert abs(astronaut_face.yaw) < 5
    yaws = [nose_moved(astronaut_face, f).yaw for f in (0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9)]
    assert yaws == sorted(yaws) and abs(yaws[3]) < 1.5 and yaws[0] < -MAX_YAW_DEG < yaws[1] < -15
    assert abs(yaws[0] + yaws[-1]) < 3 and abs(yaws[1] + yaws[-2]) < 3


def test_yaw_does_not_change_with_tilt(astronaut_face):
    turned_face = nose_moved(astronaut_face, 0.3)
    center = turned_face.landmarks.mean(0)
    for degrees in (-20, 15, 40):
        rolled = replace(turned_face, landmarks=rotate_points(turned_face.landmarks, degrees, center))
        assert abs(rolled.yaw - turned_face.yaw) < 0.5
        assert abs(rolled.roll - (astronaut_face.roll + degrees)) < 0.5


def test_head_turned_too_far(astronaut_face):
    check_face(nose_moved(astronaut_face, 0.3), (512, 512))  # about 17 degrees: fine
    for fraction in (0.08, 0.92):
        with pytest.raises(FaceError) as caught:
            check_face(nose_moved(astronaut_face, fraction), (512, 512))
        assert caught.value.message.startswith("The head is turned too far to the side (about 3")


def test_head_tilted_too_far(astronaut_face):
    center = astronaut_face.landmarks.mean(0)
    rolled = replace(astronaut_face, landmarks=rotate_points(astronaut_face.landmarks, MAX_ROLL_DEG + 10, center))
    with pytest.raises(FaceError) as caught:
        check_face(rolled, (512, 512))
    assert caught.value.message.startswith("The head is tilted too far (about 3")


def test_every_refusal_has_its_own_message(astronaut_face):
    center = astronaut_face.landmarks.mean(0)
    turned_face = nose_moved(astronaut_face, 0.05)
    tilted_face = replace(astronaut_face, landmarks=rotate_points(astronaut_face.landmarks, MAX_ROLL_DEG + 5, center))
    tiny = cv2.resize(images.tiny_face(), None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    messages = [refusal(images.no_face()["cat"]), refusal(tiny), refusal(images.cut_off_face()["left"])]
    for bad in (turned_face, tilted_face):
        with pytest.raises(FaceError) as caught:
            check_face(bad, (512, 512))
        messages.append(caught.value.message)
    photo_messages = [photo.NOT_AN_IMAGE, photo.EMPTY, photo.DAMAGED, photo.HEIC]
    assert len(set(messages + photo_messages)) == len(messages) + len(photo_messages)
    for message in messages:
        assert message[0].isupper() and message.endswith(".") and len(message) < 200


# ------------------------------------------------------------------------------------------------------- crop


def eye_line(face: Face) -> float:
    return float(np.mean([c[1] for c in face.eye_centers]))


def face_center_x(face: Face) -> float:
    return float(face.landmarks[[face_mod.JAW_LEFT, face_mod.JAW_RIGHT], 0].mean())


@pytest.mark.parametrize("size", [256, 512, 768])
def test_crop_frames_the_face(astronaut_face, size):
    frame, face = crop_portrait(images.astronaut(), astronaut_face, size)
    assert frame.shape == (size, size, 3) and frame.dtype == np.uint8
    assert 0.39 < face.width / size < 0.41
    assert 0.39 < eye_line(face) / size < 0.41
    assert abs(face_center_x(face) / size - 0.5) < 0.01
    assert face.notices == astronaut_face.notices and face.score == astronaut_face.score


def test_crop_maps_photo_pixels_to_frame_pixels_exactly(astronaut_face):
    """A dot painted on the nose tip in the photo lands where the returned landmark says, within a fifth of a pixel."""
    rgb = images.astronaut()
    tip = astronaut_face.landmarks[face_mod.NOSE_TIP]
    assert np.array_equal(tip, tip.round())  # dlib gives whole pixels: the dot can sit exactly on it
    marked = cv2.circle(rgb.copy(), (int(tip[0]), int(tip[1])), 2, (0, 255, 0), -1)
    plain, face = crop_portrait(rgb, astronaut_face)
    dotted, _ = crop_portrait(marked, astronaut_face)
    weight = np.abs(dotted.astype(np.float32) - plain.astype(np.float32)).sum(2)
    ys, xs = np.mgrid[: weight.shape[0], : weight.shape[1]]
    found = np.array([(xs * weight).sum(), (ys * weight).sum()]) / weight.sum()
    assert np.abs(found - face.landmarks[face_mod.NOSE_TIP]).max() < 0.2


def test_landmarks_in_the_crop_match_a_fresh_detection(astronaut_face):
    frame, face = crop_portrait(images.astronaut(), astronaut_face)
    again = detect_face(frame)
    assert np.abs(again.landmarks - face.landmarks).mean() < 0.03 * face.width


def test_crop_stays_in_the_photo_rather_than_filling():
    """The ideal frame would cross the left edge: the frame is as big as the photo allows and slides right, so
    nothing is filled and the face stays whole."""
    rgb = np.ascontiguousarray(images.astronaut()[20:, 120:])
    face = detect_face(rgb)
    left, top, side = face_mod._frame(face, rgb.shape)
    assert left >= 0 and top >= 0 and left + side <= rgb.shape[1] and top + side <= rgb.shape[0]
    frame, in_frame = crop_portrait(rgb, face)
    assert 0.4 < in_frame.width / 512 < 0.6 and in_frame.notices == ()
    assert np.all(in_frame.landmarks > 0.05 * 512) and np.all(in_frame.landmarks < 0.95 * 512)
    expected = cv2.resize(rgb[top: top + side, left: left + side], (512, 512), interpolation=cv2.INTER_LANCZOS4)
    assert np.array_equal(frame, expected)  # no fill anywhere


def test_a_close_up_stays_a_close_up_with_room_for_the_jaw():
    """Forehead to chin, ear to ear: the face keeps filling the frame, and the strip the opening jaw moves into is
    filled in under the chin (with the notice), above the bottom band that must stay still."""
    rgb = images.face_filling_photo()
    frame, face = crop_portrait(rgb, detect_face(rgb))
    assert face.notices == (face_mod.EDGE_NOTICE,) and face.width / 512 > 0.7
    room = face.landmarks[face_mod.CHIN, 1] + face_mod.JAW_ROOM * face.inter_ocular
    assert room <= 512 * (1 - face_mod.EDGE_BAND) + 1
    jaw = face.landmarks[[face_mod.JAW_LEFT, face_mod.JAW_RIGHT], 0]
    assert abs(jaw[0] - (512 - jaw[1])) < 0.05 * 512  # the fill shared by both sides, the face in the middle


def test_crop_pads_with_blurred_edge_pixels_never_a_mirror():
    rgb = cv2.resize(images.astronaut()[88:195, 178:277], None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    rgb[:, :2] = (255, 0, 0)  # a red edge: repeated, it reddens the whole left fill; mirrored, only a thin line
    face = detect_face(rgb)
    left, top, side = face_mod._frame(face, rgb.shape)
    assert left < 0 and top < 0 and left + side > rgb.shape[1]  # the core needs more than the photo holds
    frame, in_frame = crop_portrait(rgb, face)
    assert frame.shape == (512, 512, 3) and in_frame.notices == (face_mod.EDGE_NOTICE,)
    pad = round(-left * 512 / side)
    fill = frame[150:450, : max(pad - 6, 1)].astype(np.float32)
    assert (fill[..., 0] - fill[..., 1:].max(-1)).mean() > 100
    # The fill above the head is the top row stretched upwards, blurred: far smoother than stretched alone.
    stretched = cv2.resize(face_mod._cut(rgb, left, top, side), (512, 512), interpolation=cv2.INTER_CUBIC)
    above = (slice(0, max(round(-top * 512 / side) - 10, 1)), slice(pad + 20, 400))  # clear of the red corner
    across = lambda image: np.abs(np.diff(image[above].astype(np.float32), axis=1)).mean()  # noqa: E731
    assert across(frame) < 0.7 * across(stretched)  # measured 0.58 over a fill 43 px high
    assert np.all(in_frame.landmarks[face_mod.CORE_POINTS] >= 0) and np.all(in_frame.landmarks < 512)


def test_crop_of_a_face_near_the_border_keeps_it_whole():
    rgb = images.face_near_left_edge()
    frame, face = crop_portrait(rgb, detect_face(rgb))
    assert frame.shape == (512, 512, 3)
    assert np.all(face.landmarks > 0.05 * 512) and np.all(face.landmarks < 0.95 * 512)


# --------------------------------------------------------------------------------------------------- backends


def test_auto_uses_dlib_without_face_alignment_weights():
    assert landmarks_backend() == "dlib"
    assert not face_mod.fan_weights_path().exists()
    assert str(face_mod.fan_weights_path()).startswith(os.environ["TORCH_HOME"])


def test_asking_for_face_alignment_without_weights_says_so():
    with settings.using(landmarks="face-alignment"), pytest.raises(EngineUnavailable, match="never downloaded"):
        landmarks_backend()
    with pytest.raises(SettingError, match="EMO_LANDMARKS='mediapipe' is not known"):
        Settings.from_env({"EMO_LANDMARKS": "mediapipe"})
    with settings.using(landmarks="dlib"):
        assert landmarks_backend() == "dlib"


def test_check_imports_neither_torch_nor_face_alignment(tmp_path):
    """In a fresh interpreter: the default path never touches torch, so it cannot download anything either."""
    code = ("import sys; from emo.face import check_photo, preload; from tests import images; "
            "assert preload() == 'dlib'; check_photo(images.astronaut()); "
            "print(sorted(m for m in ('torch', 'face_alignment') if m in sys.modules))")
    env = {**os.environ, "TORCH_HOME": str(tmp_path), "EMO_LANDMARKS": "auto"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class FakeFaceAlignment:
    """Stands in for face_alignment.FaceAlignment: records how it is built and called, answers dlib's points."""

    made: list[dict] = []
    calls: list[list] = []
    answer: np.ndarray

    def __init__(self, landmarks_type, **kwargs):
        FakeFaceAlignment.made.append({"landmarks_type": landmarks_type, **kwargs})

    def get_landmarks_from_image(self, image, detected_faces=None):
        FakeFaceAlignment.calls.append(detected_faces)
        return [np.hstack([FakeFaceAlignment.answer, np.zeros((68, 1), np.float32)])]


def test_face_alignment_is_used_when_its_weights_are_present(monkeypatch, astronaut_face):
    weights = face_mod.fan_weights_path()
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"weights")
    fake = types.ModuleType("face_alignment")
    fake.__spec__ = importlib.machinery.ModuleSpec("face_alignment", None)
    fake.FaceAlignment = FakeFaceAlignment
    fake.LandmarksType = types.SimpleNamespace(TWO_D=1)
    monkeypatch.setitem(sys.modules, "face_alignment", fake)
    FakeFaceAlignment.answer = astronaut_face.landmarks + 0.5
    face_mod._fan.cache_clear()
    try:
        assert landmarks_backend() == "face-alignment"
        face = detect_face(images.astronaut())
    finally:
        face_mod._fan.cache_clear()
    assert np.allclose(face.landmarks, astronaut_face.landmarks + 0.5)
    made = FakeFaceAlignment.made[-1]
    assert made["compile"] is False and made["flip_input"] is False and made["face_detector"] == "folder"
    (box,) = FakeFaceAlignment.calls[-1]
    assert np.allclose(box[:4], astronaut_face.box, atol=1.5) and box[4] == pytest.approx(astronaut_face.score)
