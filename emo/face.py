"""Face check: find one frontal face in a photo and its 68 landmarks (iBUG 300-W layout), then frame it.

Detection is dlib's HOG detector (embedded in the dlib wheel). Landmarks come from dlib's 68-point shape predictor
(shipped by face-recognition-models), or from face-alignment's 2DFAN4 when its weights are already on disk: it is
never downloaded. The landmarks setting (``EMO_LANDMARKS=auto|dlib|face-alignment``) picks; auto takes
face-alignment when it can.
Every reason to refuse a photo has its own plain sentence, raised as a ``FaceError``.
"""
from __future__ import annotations

import importlib.util
import math
import os
import sys
import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from . import settings
from .errors import EngineUnavailable, FaceError
from .messages import Message
from .photo import load_photo

# iBUG 300-W landmark groups (0-based), as produced by dlib and face-alignment.
BROWS = slice(17, 27)
BROW_L, BROW_R = slice(17, 22), slice(22, 27)  # over the image's left and right eye
NOSE = slice(27, 36)
EYE_L = slice(36, 42)  # the eye on the image's left
EYE_R = slice(42, 48)
LIPS_OUTER = slice(48, 60)
LIPS_INNER = slice(60, 68)
JAW_LEFT, CHIN, JAW_RIGHT, NOSE_TIP = 0, 8, 16, 30

# What we accept.
MIN_FACE_PX = 64  # jaw width in photo pixels (a passport photo's face); a 512 px frame shows it 205 px wide: 3.2x
SHARP_FACE_PX = 80  # under this the video is an upscale of few pixels: accepted, with a notice
MIN_SCORE = 0.3  # HOG detector score: real faces score 0.4-1.6 here, false hits on cats, cups and flags 0.0-0.25
DOMINANT_AREA = 2.5  # a face this many times larger than the next one is "the" face
MAX_YAW_DEG = 30.0
MAX_ROLL_DEG = 25.0
NOSE_DEPTH = 1.4  # nose tip's distance from the head's turning axis, in half jaw widths (see Face.yaw)

# How we search.
HOG_WINDOW = 80  # dlib's frontal detector finds faces at least about this many pixels wide
DETECT_SIDE = 640  # first pass on a copy this long (~40 ms) finds faces an eighth of the long side: any headshot's
SEARCH_MAX_PIXELS = 1_500_000  # bounds the finer second pass (small faces, or none found) to ~110 ms

NO_FACE = Message("face.none")
CUT_OFF = Message("face.cut_off")
DOMINANT_NOTICE = Message("face.largest")
EDGE_NOTICE = Message("face.edge")
# Points that must lie inside the photo: eyes, nose, mouth and the jaw below the cheekbones. The brows and the
# jaw's ends by the ears may be cut, as in a close-up selfie; the missing border is filled in.
CORE_POINTS = np.r_[3:14, 27:68]
# ... but the jaw's sides by the cheeks may reach this share of the face's width past the edge: a tight crop (a
# phone's portrait, a cropped press photo) cuts the cheek's outline, and the fill stands in for that sliver.
JAW_SIDES, JAW_SIDE_SLACK = [3, 4, 12, 13], 0.05


def several_notice(count: int) -> Message:
    return Message("face.several", count=count)


def small_notice(width: float) -> Message:
    return Message("face.small", width=width)


def too_small(width: float) -> Message:
    return Message("face.too_small", width=width, least=MIN_FACE_PX)


def turned(yaw: float) -> Message:
    return Message("face.turned", degrees=abs(yaw))


def tilted(roll: float) -> Message:
    return Message("face.tilted", degrees=abs(roll))


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass(frozen=True)
class Face:
    """One face: its box, 68 landmarks (x, y) in pixels of the image it was found in, and notices for the user."""

    box: Box
    landmarks: np.ndarray = field(repr=False)  # (68, 2) float32
    score: float = 1.0
    notices: tuple[Message, ...] = ()
    pixel_scale: float = 1.0  # image pixels per pixel of the photo as loaded (over 1: the photo was enlarged)
    neighbours: tuple[np.ndarray, ...] = field(default=(), repr=False)  # the image's other faces' landmarks

    @property
    def eye_centers(self) -> tuple[np.ndarray, np.ndarray]:
        return self.landmarks[EYE_L].mean(0), self.landmarks[EYE_R].mean(0)

    @property
    def anchor(self) -> tuple[float, float]:
        """Where framing places a face: across, midway between the jaw's ends; down, the eyes' line."""
        center_x = float(self.landmarks[JAW_LEFT, 0] + self.landmarks[JAW_RIGHT, 0]) / 2
        return center_x, float(np.mean([c[1] for c in self.eye_centers]))

    @property
    def inter_ocular(self) -> float:
        left, right = self.eye_centers
        return float(np.linalg.norm(right - left))

    @property
    def mouth_opening(self) -> float:
        """Inner-lip gap over the inter-ocular distance (0 for a closed mouth)."""
        upper, lower = self.landmarks[[61, 62, 63]], self.landmarks[[67, 66, 65]]
        return float(np.mean(lower[:, 1] - upper[:, 1]) / self.inter_ocular)

    @property
    def width(self) -> float:
        """Jaw width: the distance between the two ends of the jaw line (ear level), in pixels."""
        return float(np.linalg.norm(self.landmarks[JAW_RIGHT] - self.landmarks[JAW_LEFT]))

    @property
    def roll(self) -> float:
        """In-plane tilt of the eye line in degrees; positive when the image's right eye is lower."""
        left, right = self.eye_centers
        return math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))

    @property
    def yaw(self) -> float:
        """Rough head turn in degrees from the nose tip's place between the jaw ends; positive: nose to the right.

        Seen from the front, the jaw ends sit on the face's outline about one half jaw width from the turning axis
        and the nose tip about NOSE_DEPTH half widths in front of it, so turning by `a` moves the nose tip off the
        middle by NOSE_DEPTH * sin(a) half widths while the outline barely moves. Measured along the eye line, so
        a tilted head reads the same.
        """
        left, right = self.eye_centers
        axis = (right - left) / max(float(np.linalg.norm(right - left)), 1e-6)
        to_left = float(np.dot(self.landmarks[NOSE_TIP] - self.landmarks[JAW_LEFT], axis))
        to_right = float(np.dot(self.landmarks[JAW_RIGHT] - self.landmarks[NOSE_TIP], axis))
        if to_left + to_right <= 0:
            return 90.0
        offset = (to_left - to_right) / (to_left + to_right)
        return math.degrees(math.asin(float(np.clip(offset / NOSE_DEPTH, -1.0, 1.0))))

    def transformed(self, scale: float, offset: tuple[float, float]) -> "Face":
        """The same face after the image is scaled by `scale` and then shifted by `offset`."""
        off = np.asarray(offset, np.float32)
        x0, y0, x1, y1 = self.box
        box = (x0 * scale + off[0], y0 * scale + off[1], x1 * scale + off[0], y1 * scale + off[1])
        return Face(box, (self.landmarks * scale + off).astype(np.float32), self.score, self.notices,
                    self.pixel_scale * scale, tuple((n * scale + off).astype(np.float32) for n in self.neighbours))


# ---------------------------------------------------------------------------------------------------- the check


def check_photo(src) -> tuple[np.ndarray, Face]:
    """Load a photo (see ``load_photo``) and find its one usable face."""
    rgb = load_photo(src)
    return rgb, detect_face(rgb)


def detect_face(rgb: np.ndarray) -> Face:
    """The one usable frontal face in an RGB photo, or a FaceError saying why there is none."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    found = _find_faces(grey)
    if not found:
        raise FaceError(NO_FACE)
    box, score = found[0]
    notices = ()
    if len(found) > 1:
        similar = sum(_area(other) * DOMINANT_AREA > _area(box) for other, _ in found[1:])
        notices = (several_notice(similar + 1) if similar else DOMINANT_NOTICE,)
    # The others (a group photo's, as large as a face that could compete) are only kept out of the head that moves:
    # the 68-point model places them well enough, and fast.
    with _MODEL_LOCK:
        neighbours = tuple(_dlib_landmarks(grey, other) for other, _ in found[1:])
    face = Face(box, _landmarks(rgb, grey, box, score), score, notices, neighbours=neighbours)
    return replace(face, notices=face.notices + check_face(face, rgb.shape))


def find_faces(rgb: np.ndarray) -> list[Face]:
    """Every face in an RGB photo down to MIN_FACE_PX wide (a group photo), with landmarks, largest first and
    unchecked: ``check_face`` says whether each can sing."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return [Face(box, _landmarks(rgb, grey, box, score), score) for box, score in _find_faces(grey, MIN_FACE_PX)]


def check_face(face: Face, shape: tuple[int, ...]) -> tuple[str, ...]:
    """Raise a FaceError if this face (in an image of `shape`) cannot be animated well; else the notices it needs."""
    height, width = shape[:2]
    x, y = face.landmarks[:, 0], face.landmarks[:, 1]
    slack = np.zeros(len(x))
    slack[JAW_SIDES] = JAW_SIDE_SLACK * face.width
    inside = (x >= -slack) & (y >= -slack) & (x <= width - 1 + slack) & (y <= height - 1 + slack)
    if not inside[CORE_POINTS].all():
        raise FaceError(CUT_OFF)  # first: a cut face also measures narrow and turned
    if face.width < MIN_FACE_PX:
        raise FaceError(too_small(face.width))
    if abs(face.yaw) > MAX_YAW_DEG:
        raise FaceError(turned(face.yaw))
    if abs(face.roll) > MAX_ROLL_DEG:
        raise FaceError(tilted(face.roll))
    return (small_notice(face.width),) if face.width < SHARP_FACE_PX else ()


def _find_faces(grey: np.ndarray, smallest: float | None = None) -> list[tuple[Box, float]]:
    """Confident faces as (box in photo pixels, score), largest first.

    A fast first pass runs on a copy DETECT_SIDE long. A second, finer pass runs only when a face could have been
    missed that matters: one `smallest` pixels wide or more (a group photo's) or, by default, one big enough to
    compete with the largest found, or (none found) one just too small, which deserves "too small" rather than
    "no face".
    """
    scale = min(1.0, DETECT_SIDE / max(grey.shape))
    found = _hog(grey, scale)
    if smallest is not None:
        smallest_that_matters = smallest
    elif found:
        largest = found[0][0][2] - found[0][0][0]
        smallest_that_matters = largest / math.sqrt(DOMINANT_AREA)
    else:
        smallest_that_matters = MIN_FACE_PX / 2
    fine = min(HOG_WINDOW / smallest_that_matters, math.sqrt(SEARCH_MAX_PIXELS / grey.size))
    if fine > 1.15 * scale:
        found = _hog(grey, fine) or found
    return found


def _hog(grey: np.ndarray, scale: float) -> list[tuple[Box, float]]:
    height, width = grey.shape
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        scale_x, scale_y = size[0] / width, size[1] / height
    else:
        scale_x = scale_y = 1.0
    with _MODEL_LOCK:
        rects, scores, _ = _hog_detector().run(grey, 0, 0.0)
    found = [((r.left() / scale_x, r.top() / scale_y, (r.right() + 1) / scale_x, (r.bottom() + 1) / scale_y), s)
             for r, s in zip(rects, scores, strict=True) if s >= MIN_SCORE]
    return sorted(found, key=lambda item: _area(item[0]), reverse=True)


def _area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


# ----------------------------------------------------------------------------------------------- landmark models

BACKENDS = ("auto", "dlib", "face-alignment")  # the landmarks setting's options
# dlib's detector and predictor are not safe to share between threads (the app serves several users at once):
# concurrent calls returned wrong faces and crashed the process. Calls take 5-50 ms, so they simply take turns.
_MODEL_LOCK = threading.Lock()
FAN_WEIGHTS = "2DFAN4-11f355bf06.pth.tar"  # the file face-alignment 1.5 loads for 2-D landmarks


def fan_weights_path() -> Path:
    """Where face-alignment looks for its 2DFAN4 weights (torch.hub.get_dir()/checkpoints)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return Path(torch.hub.get_dir()) / "checkpoints" / FAN_WEIGHTS
    # torch.hub.get_dir()'s own rule, so that merely looking for a file does not import torch (seconds).
    home = os.environ.get("TORCH_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "torch")
    return Path(home).expanduser() / "hub" / "checkpoints" / FAN_WEIGHTS


def landmarks_backend() -> str:
    """The landmark model in use: "dlib" or "face-alignment", as the landmarks setting and the files on disk allow."""
    choice = settings.current().landmarks
    if choice == "dlib":
        return choice
    missing = _fan_missing()
    if choice == "auto":
        return "dlib" if missing else "face-alignment"
    if missing:
        raise EngineUnavailable(Message("host.landmarks_missing", missing=missing))
    return choice


def _fan_missing() -> str | None:
    """Why face-alignment cannot run here, or None."""
    if importlib.util.find_spec("face_alignment") is None:
        return "the face-alignment package is not installed"
    if not fan_weights_path().is_file():
        return f"its weights {fan_weights_path()} are not there (they are never downloaded here)"
    return None


def preload() -> str:
    """Load the detector and the landmark model now (about 1 s) instead of on the first photo; name the backend."""
    backend = landmarks_backend()
    _hog_detector()
    if backend == "face-alignment":
        _fan()
    else:
        _dlib_predictor()
    return backend


def _landmarks(rgb: np.ndarray, grey: np.ndarray, box: Box, score: float) -> np.ndarray:
    with _MODEL_LOCK:
        return _landmarks_unlocked(rgb, grey, box, score)


def _landmarks_unlocked(rgb: np.ndarray, grey: np.ndarray, box: Box, score: float) -> np.ndarray:
    if landmarks_backend() == "face-alignment":
        # dlib's box stands in for face-alignment's detectors, whose weights we lack (as its own dlib option does).
        points = _fan().get_landmarks_from_image(rgb, detected_faces=[np.array([*box, score], np.float32)])
        return np.asarray(points[0][:, :2], np.float32)
    return _dlib_landmarks(grey, box)


def _dlib_landmarks(grey: np.ndarray, box: Box) -> np.ndarray:
    import dlib

    rect = dlib.rectangle(*(round(v) for v in (box[0], box[1], box[2] - 1, box[3] - 1)))
    shape = _dlib_predictor()(grey, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], np.float32)


@lru_cache(maxsize=None)
def _hog_detector():
    import dlib

    return dlib.get_frontal_face_detector()


def dlib_model(name: str) -> str:
    """Path of a dlib model file that face-recognition-models ships (e.g. "shape_predictor_5_face_landmarks.dat").
    Located by path: importing face_recognition_models itself needs pkg_resources, which may be absent."""
    return str(Path(importlib.util.find_spec("face_recognition_models").origin).parent / "models" / name)


@lru_cache(maxsize=None)
def _dlib_predictor():
    import dlib

    return dlib.shape_predictor(dlib_model("shape_predictor_68_face_landmarks.dat"))


@lru_cache(maxsize=None)
def _fan():
    import face_alignment

    # 'folder' needs no detector weights (we pass boxes); compile=False avoids a minute of compiling at first use.
    # CPU: on ZeroGPU the check runs outside the GPU-holding function.
    return face_alignment.FaceAlignment(face_alignment.LandmarksType.TWO_D, device="cpu", flip_input=False,
                                        face_detector="folder", compile=False)


# ------------------------------------------------------------------------------------------------------ framing

FACE_IN_FRAME = 0.40  # jaw width over frame width: leaves room for big hair and head motion above the eyes
EYES_FROM_TOP = 0.40  # eye line height over frame height
EDGE_BAND = 1 / 11  # share of the frame along its edges that the engines keep still: the scene's frame stays put
JAW_ROOM = 0.3  # inter-ocular distances under the chin that an opening jaw moves: kept above the bottom band


def crop_portrait(rgb: np.ndarray, face: Face, size: int = 512) -> tuple[np.ndarray, Face]:
    """The square video frame around the face, `size` pixels wide, and the face in its pixels.

    Ideally the face fills FACE_IN_FRAME of the width with the eyes EYES_FROM_TOP down. A photo too small for that
    gets the largest square it holds (a close-up selfie stays a close-up); only when even the face's core (with the
    room its jaw drops into above the still bottom band) does not fit does the frame reach outside the photo, where
    the photo's edge is stretched and blurred, which reads as out-of-focus background.
    """
    left, top, side = _frame(face, rgb.shape)
    square = _cut(rgb, left, top, side)
    scale = size / side
    frame = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LANCZOS4)
    height, width = rgb.shape[:2]
    inside = (max(0, -left) * scale, max(0, -top) * scale, (width - left) * scale, (height - top) * scale)
    filled = left < 0 or top < 0 or left + side > width or top + side > height
    if filled:
        frame = _soften_outside(frame, inside)
        face = replace(face, notices=face.notices + (EDGE_NOTICE,))
    # Pixel centres: photo pixel x lands at (x - left + 0.5) * scale - 0.5 in the frame.
    offset = ((0.5 - left) * scale - 0.5, (0.5 - top) * scale - 0.5)
    return frame, face.transformed(scale, offset)


def _frame(face: Face, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Left, top and side (photo pixels, may reach outside it) of the square to cut."""
    height, width = shape[:2]
    center_x, eyes_y = face.anchor
    x0, y0, x1, y1 = core_extent(face.landmarks)
    # The jaw drops below the chin as the mouth opens, and the bottom band must not move: a close-up whose chin
    # reaches the photo's bottom gets room filled in under it.
    y1 = max(y1, face.landmarks[CHIN, 1] + JAW_ROOM * face.inter_ocular)
    side = max(round(max(min(face.width / FACE_IN_FRAME, width, height), x1 - x0, (y1 - y0) / (1 - EDGE_BAND))), 1)
    # Where the face would ideally sit, slid as little as needed to stay in the photo and to keep the core.
    left = _place(center_x - side / 2, side, width, x0, x1)
    top = _place(eyes_y - EYES_FROM_TOP * side, side, height, y0, y1 + EDGE_BAND * side)
    return round(left), round(top), side


def _place(start: float, side: float, length: float, core0: float, core1: float) -> float:
    """`start` moved into [0, length - side] (inside the photo; a square longer than the photo into [length - side,
    0], so that both sides share the fill), then into [core1 - side, core0] (holding the core)."""
    start = min(max(start, min(length - side, 0.0)), max(length - side, 0.0))
    return min(max(start, core1 - side), core0)


def core_extent(points: np.ndarray) -> Box:
    """What the frame must hold: eyes, nose, mouth and the jaw below the cheekbones, with a little skin around."""
    core = points[CORE_POINTS]
    x0, y0 = core.min(0)
    x1, y1 = core.max(0)
    margin = 0.08 * (x1 - x0)
    return x0 - margin, min(y0, points[BROWS, 1].min()) - margin, x1 + margin, y1 + margin


def _cut(rgb: np.ndarray, left: int, top: int, side: int) -> np.ndarray:
    """The side x side square at (left, top); parts outside the photo repeat its edge pixels (never a mirror)."""
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + side, width), min(top + side, height)
    part = rgb[y0:y1, x0:x1]
    pads = (y0 - top, top + side - y1, x0 - left, left + side - x1)
    return cv2.copyMakeBorder(part, *pads, cv2.BORDER_REPLICATE) if any(pads) else part


def _soften_outside(frame: np.ndarray, inside: tuple[float, float, float, float]) -> np.ndarray:
    """Blur the stretched fill outside `inside` (x0, y0, x1, y1), more the further it lies from the photo."""
    size = frame.shape[0]
    x0, y0, x1, y1 = inside
    coords = np.arange(size, dtype=np.float32) + 0.5
    dx = np.maximum(np.maximum(x0 - coords, coords - x1), 0)
    dy = np.maximum(np.maximum(y0 - coords, coords - y1), 0)
    weight = np.clip(np.hypot(dx[None, :], dy[:, None]) / (0.08 * size), 0, 1)[:, :, None]
    blurred = cv2.GaussianBlur(frame, (0, 0), sigmaX=0.06 * size)
    return (frame * (1 - weight) + blurred * weight).round().astype(np.uint8)
