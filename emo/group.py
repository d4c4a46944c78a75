"""Who sings together: several photos side by side, or every face of one group photo, on one stage.

A `Stage` is the picture the video shows before anyone moves (the photos' tiles, or the group photo itself) and the
singers on it: for each, a square portrait cut from the stage, its face, and where the square sits. The engine
animates each singer's portrait as it would a single photo; `Stage.compose` lays the frames back onto the stage only
where the engine changed a pixel, so a group photo stays one picture with one background and a head never drags
its neighbour's face along (each head's cut-out keeps the other faces out, see `RenderJob.others`).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import FaceError, UserError
from .face import (EYES_FROM_TOP, FACE_IN_FRAME, Box, Face, check_face, check_photo, core_extent, crop_portrait,
                   find_faces)
from .messages import Message
from .photo import load_photo

MIN_PHOTOS, MAX_PHOTOS = 2, 4
MAX_SINGERS = 6  # of a group photo; more faces than this: the largest sing
MAX_SIDE = 1280  # a group photo's long side in the video
TILE = {2: 512, 3: 384, 4: 384}  # side of each photo's square, by how many photos
GUTTER = 8  # pixels between tiles
GUTTER_COLOUR = (17, 17, 17)


@dataclass(frozen=True)
class Singer:
    number: int  # as the user sees it: photos in order, a group photo's faces left to right, from 1
    portrait: np.ndarray  # (s, s, 3) uint8: the square the engine animates
    face: Face  # in portrait pixels
    at: tuple[int, int]  # (top, left) of the portrait on the stage
    others: tuple[np.ndarray, ...] = ()  # landmarks of other faces inside the portrait
    shared: tuple[slice, slice] | None = None  # the part of the square other singers' squares overlap (a box)


@dataclass(frozen=True)
class Stage:
    image: np.ndarray  # (H, W, 3) uint8, even sides
    singers: tuple[Singer, ...]
    notices: tuple[Message, ...] = ()
    still: tuple[tuple[int, Box], ...] = ()  # (number, box on the stage) of faces that cannot sing

    def compose(self, frames: list[np.ndarray]) -> np.ndarray:
        """The stage with each singer's frame (in `singers` order) laid over its square; where squares overlap,
        only the pixels the frame changed, so one face's frame never undoes another's."""
        out = self.image.copy()
        for singer, frame in zip(self.singers, frames, strict=True):
            top, left = singer.at
            side = singer.portrait.shape[0]
            region = out[top:top + side, left:left + side]
            shared = singer.shared
            kept = region[shared].copy() if shared else None
            region[:] = frame
            if shared:
                changed = np.any(frame[shared] != singer.portrait[shared], axis=2, keepdims=True)
                region[shared] = np.where(changed, frame[shared], kept)
        return out


def stage_of(photos) -> Stage:
    """One photo (or path) is a group photo; a list of 2-4 are photos of one face each."""
    photos = list(photos) if isinstance(photos, (list, tuple)) else [photos]
    return from_group_photo(photos[0]) if len(photos) == 1 else from_photos(photos)


def from_photos(photos: list) -> Stage:
    """2-4 photos, one face each (the largest, as a single photo), side by side (2, 3) or two by two (4)."""
    if not MIN_PHOTOS <= len(photos) <= MAX_PHOTOS:
        raise UserError(Message("together.count", least=MIN_PHOTOS, most=MAX_PHOTOS, got=len(photos)))
    tile = TILE[len(photos)]
    columns = 2 if len(photos) == 4 else len(photos)
    rows = -(-len(photos) // columns)
    width, height = columns * tile + (columns - 1) * GUTTER, rows * tile + (rows - 1) * GUTTER
    image = np.empty((height, width, 3), np.uint8)
    image[:] = GUTTER_COLOUR
    singers, notices = [], []
    for i, photo in enumerate(photos):
        try:
            rgb, face = check_photo(photo)
        except UserError as err:
            raise type(err)(Message("together.photo_n", number=i + 1, text=err.args[0])) from err
        portrait, face = crop_portrait(rgb, face, tile)
        at = ((i // columns) * (tile + GUTTER), (i % columns) * (tile + GUTTER))
        image[at[0]:at[0] + tile, at[1]:at[1] + tile] = portrait
        singers.append(Singer(i + 1, portrait, face, at))
        notices += [Message("together.photo_n", number=i + 1, text=notice) for notice in face.notices]
    return Stage(image, tuple(singers), tuple(notices))


def from_group_photo(photo) -> Stage:
    """Every usable face of one photo (up to MAX_SINGERS, the largest) sings in place; the others stay still and the
    notices say why."""
    image = _fit(load_photo(photo))
    faces = sorted(find_faces(image), key=lambda f: f.box[0])  # numbered left to right
    usable, notices, still = [], [], []
    for number, face in enumerate(faces, 1):
        try:
            notices += [Message("together.face_n", number=number, text=notice)
                        for notice in check_face(face, image.shape)]
            usable.append((number, face))
        except FaceError as err:
            notices.append(Message("together.face_still", number=number, reason=err.args[0]))
            still.append((number, face.box))
    if len(usable) > MAX_SINGERS:
        largest = sorted(usable, key=lambda item: item[1].width, reverse=True)[:MAX_SINGERS]
        for number, face in usable:
            if all(number != kept for kept, _ in largest):
                notices.append(Message("together.face_still_most", number=number, most=MAX_SINGERS))
                still.append((number, face.box))
        usable = sorted(largest, key=lambda item: item[0])
    if len(usable) < 2:
        raise FaceError(Message("together.too_few", usable=len(usable), found=len(faces), reasons=notices))
    squares = [_square(face, image.shape) for _, face in usable]
    singers = []
    for (number, face), (top, left, side) in zip(usable, squares):
        portrait = np.ascontiguousarray(image[top:top + side, left:left + side])
        inside = face.transformed(1.0, (-left, -top))
        others = tuple(other.landmarks - np.float32([left, top]) for other in faces if other is not face)
        singers.append(Singer(number, portrait, inside, (top, left), tuple(o for o in others if _overlaps(o, side)),
                              _shared((top, left, side), [q for q in squares if q != (top, left, side)])))
    return Stage(image, tuple(singers), tuple(notices), tuple(still))


def numbered(stage: Stage) -> np.ndarray:
    """The stage with every face boxed and numbered (green: sings; grey: stays still), for the page to show."""
    out = stage.image.copy()
    scale = max(out.shape[:2]) / 800
    boxes = [(s.number, tuple(np.add(s.face.box, [s.at[1], s.at[0]] * 2)), (60, 220, 90)) for s in stage.singers]
    boxes += [(number, box, (160, 160, 160)) for number, box in stage.still]
    font, size, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.9 * scale, max(2, round(2 * scale))
    for number, (x0, y0, x1, y1), colour in boxes:
        p0 = (int(x0), int(y0))
        cv2.rectangle(out, p0, (int(x1), int(y1)), colour, thick)
        (w, h), _ = cv2.getTextSize(str(number), font, size, thick)
        cv2.rectangle(out, (p0[0], max(p0[1] - h - 10, 0)), (p0[0] + w + 10, max(p0[1], h + 10)), colour, -1)
        cv2.putText(out, str(number), (p0[0] + 5, max(p0[1] - 5, h + 5)), font, size, (0, 0, 0), thick, cv2.LINE_AA)
    return out


def _fit(rgb: np.ndarray) -> np.ndarray:
    """The photo at most MAX_SIDE long, with even sides (the video's encoder needs them)."""
    height, width = rgb.shape[:2]
    scale = min(1.0, MAX_SIDE / max(height, width))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb[: rgb.shape[0] // 2 * 2, : rgb.shape[1] // 2 * 2])


def _square(face: Face, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Top, left and side of the square each face is animated in: framed as a single photo is, but never reaching
    outside the photo (the square is laid back into it)."""
    height, width = shape[:2]
    x0, y0, x1, y1 = core_extent(face.landmarks)
    side = int(min(max(face.width / FACE_IN_FRAME, x1 - x0, y1 - y0), width, height))
    center_x, eyes_y = face.anchor
    left = int(np.clip(round(center_x - side / 2), 0, width - side))
    top = int(np.clip(round(eyes_y - EYES_FROM_TOP * side), 0, height - side))
    return top, left, side


def _shared(square: tuple[int, int, int], others: list[tuple[int, int, int]]) -> tuple[slice, slice] | None:
    """The box (in the square's pixels) holding every part of `square` that any of `others` overlaps; None if
    none does."""
    top, left, side = square
    boxes = [(max(t, top), max(l, left), min(t + s, top + side), min(l + s, left + side)) for t, l, s in others]
    boxes = [b for b in boxes if b[0] < b[2] and b[1] < b[3]]
    if not boxes:
        return None
    y0, x0 = min(b[0] for b in boxes) - top, min(b[1] for b in boxes) - left
    y1, x1 = max(b[2] for b in boxes) - top, max(b[3] for b in boxes) - left
    return slice(y0, y1), slice(x0, x1)


def _overlaps(points: np.ndarray, side: int) -> bool:
    """Whether any of a face's landmarks lie inside a side x side square at the origin."""
    return bool(((points >= 0) & (points < side)).all(axis=1).any())
