"""Eyes: upper lids that close like lids, a gaze that wanders a little, brows that lift on held notes.

A closing lid is painted, not stretched: the lid comes down over the eye in the colour of the skin around it,
carried over the eye by a blur that leaves the eye out (so a deep-set eye's lid keeps its shadow and meets the photo
without a seam), lighter where a closed lid bulges into the light, with the creases of the skin under the eye and
the fine texture of the skin around it, shaded as a curved lid is, ending in a soft lash line, most of the way as
dark as the photo's own, thin at the inner corner, its lashes hanging below it in uneven clumps, softened and given
the photo's grain. Above, it takes in half the photo's fold, which a closed lid stretches into a faint crease, but
never the brow, and begins in the photo's own colour there (a lid lighter than the fold it covered showed a dome's
rim). The eye below the lid's edge is the photo's, untouched; at the blink's peak the lash line meets the lower lid.
All of it is done in the eye's own frame, turned level, so that a tilted head's lids close along its eyes.
Stretching the thin strip of skin above the eye instead smeared it into streaks, on glasses and deep-set eyes worst.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from ...face import BROW_L, BROW_R, EYE_L, EYE_R
from .look import PhotoLook, luma
from .shapes import arc, curve, lens, smoothstep

GAZE_REACH = 0.09  # the widest look aside, as a share of the eye's width
BROW_LIFT = 0.03  # inter-ocular distances a brow rises on a held loud note (0.05: as expressive to viewers, but the
# glasses on a brow bent and the face read 0.02 further from the photo to dlib at the widest notes)
LIT = 0.45  # darker than this share of the median around the eye is a brow, lashes, a frame: the lit lid leaves it out
BRIGHTEST = 1.4  # ... and brighter than this share is no skin
LIT_SHARE = 1.0  # how much of a closed lid's bulge takes the lit skin's colour rather than its surroundings'
ROUNDING = 0.2  # how much darker a closed lid is at the eye's corners than mid-eye, as the ball under it turns away
RELIEF = 0.6  # a lid's skin is smoother than the skin under the eye it borrows its relief from
DARK_LENS = 0.45  # an eye amid surroundings darker than this share of the face's skin ...
DARK_EYE = 0.6  # ... with nothing in it brighter than this share (no white, no glint) is behind dark glasses
FRAME_DARK = 0.15  # above the lid, as near the lashes' darkness as this (from the skin's) is a frame or a black brow
FOLD_TAKEN = 0.5  # how much of the photo's fold a closing lid takes in (all: a smooth dome with a hard rim; none:
# the open lid's lash line left showing above the closed one): half, so a faint crease stays, as on real closed lids
CORNER_FADE = 0.06  # the lid's paint fades out over this share of the eye's width at its inner corner (0.15 left
# the open eye's corner lashes and a fleck of its white showing) ...
OUTER_REACH = 0.15  # ... and past its outer corner over this share, covering the lashes that run on past it
TOP_REACH = 0.5  # how far down the lid (a share of its height) the photo's colour at its top carries: less left a
# rim; more, and the socket's shade on the lid reads to FaceMesh as an open eye (even so, on dark sockets blinks
# measure 0.05-0.08 shallower than with none)
CORNER_FOLD = 0.6  # how much of the fold a closed lid takes in at its corners, as a share of mid-eye's
SKIN_DARKEST = 0.35  # the skin carried over a lid leaves out what is darker than this share of the median around
# the eye (brow hairs, lashes: left in, they smudged a sooty band over the lid under a low, thick brow)
FINE_BLUR = 1.2  # px: a lid's fine texture (pores, grain, fine lines) is what a blur this size removes from skin
LASH_SPREAD = 0.55  # the closed lash line's Gaussian width, a share of its thickness, and how far it darkens the
LASH_OPACITY = 0.85  # lid to the lashes' colour: soft and not quite opaque (narrower and opaque, it read as a pen
# line, eyeliner: blind A/B on 9 photos, preferred on 5 of the 6 that differed; lighter still, 0.75, won all 7, but
# FaceMesh read the lids less shut, a blink's depth 0.34 of open against 0.30-0.31, and fewer blinks on a painting)
DETAIL_MOST = 2.0  # the most a lid's borrowed detail is strengthened to match the skin under the eye (blind A/B on 10
# photos: a matched lid preferred on 6, the old smoother one on 2, one of them a small face strengthened 2.5x)
LASH_TAPER = 0.45  # the lash line's thickness at the inner corner, a share of its thickness from mid-eye out
LASH_HANG = 2.0  # how far (in the line's thickness) the lashes hang below it, and how far they sweep outwards per
LASH_SWEEP = 1.5  # pixel they hang at the outer corner: an even line with none read as drawn with a pen (blind A/B on
# 9 photos: preferred on all 7 that differed; FaceMesh reads the lids a little more shut, median depth 0.29 vs 0.31)


def behind_dark_lenses(eye: np.ndarray, grey: np.ndarray, skin: float) -> bool:
    """Whether the eye (its 6 landmarks) is hidden by dark glasses, going by its surroundings and its brightest tenth
    against the face's skin brightness `skin`: a blink there is not seen, and a lid painted on the lens would be."""
    width = eye[3, 0] - eye[0, 0]
    (cx, cy), opening = eye.mean(0), np.round(eye).astype(np.int32)
    around = np.zeros(grey.shape, np.uint8)
    cv2.ellipse(around, (int(cx), int(cy)), (int(0.75 * width), int(0.45 * width)), 0, 0, 360, 1, -1)
    cv2.fillPoly(around, [opening], 0)
    inside = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(inside, [opening], 1)
    if not around.any() or not inside.any():
        return False
    return bool(np.median(grey[around > 0]) < DARK_LENS * skin
                and np.percentile(grey[inside > 0], 90) < DARK_EYE * skin)


def _down_the_middle(grey: np.ndarray, eye: np.ndarray, y0: int, y1: int) -> np.ndarray | None:
    """Mean brightness of rows y0..y1 over the middle half of the eye's width; None where they leave the photo."""
    width = eye[3, 0] - eye[0, 0]
    cx = (eye[0, 0] + eye[3, 0]) / 2
    x0, x1 = int(cx - 0.25 * width), int(cx + 0.25 * width) + 1
    if y0 < 0 or x0 < 0 or y1 > grey.shape[0] or x1 > grey.shape[1]:
        return None
    return grey[y0:y1, x0:x1].astype(np.float32).mean(1)


def lid_lift(grey: np.ndarray, eye: np.ndarray, lash: float) -> tuple[float, float]:
    """Where the upper lid's edge really is and how much plain lid skin lies above it, down the eye's middle.

    Returns (lift, skin): how far (pixels) the edge lies above the landmarks' upper-lid points (small or hooded
    eyes, often behind glasses, get those points on the iris), and the height of skin between the lashes and
    the next dark thing above (a glasses frame, the brow): the rows the lid's colour is taken from.
    """
    width = eye[3, 0] - eye[0, 0]
    top, bottom = eye[[1, 2], 1].mean(), eye[[4, 5], 1].mean()
    y0, y1 = int(np.floor(top - 0.6 * width)), int(np.ceil(bottom)) + 1
    above = int(np.ceil(top)) - y0  # rows strictly above the landmarks' edge
    profile = _down_the_middle(grey, eye, y0, y1)
    if profile is None or above < 2:
        return 0.0, 0.3 * width
    near = above - int(0.3 * width)  # the edge is looked for this close above the landmarks only
    skin_row = near + int(np.argmax(profile[near:above]))
    dark = profile[skin_row:].min()
    if profile[skin_row] - dark < 20:  # no clear lid against eye (dark skin, deep shadow): trust the landmarks
        return 0.0, 0.3 * width
    threshold = dark + 0.3 * (profile[skin_row] - dark)  # nearer the dark: lid shadow is not yet the edge
    edge = skin_row + int(np.argmax(profile[skin_row:] < threshold))
    # (A fold's shadow is not dark enough to end it: the closing lid stretches it smooth; brow_depth bounds it.)
    upper = np.flatnonzero(profile[:skin_row] < dark + FRAME_DARK * (profile[skin_row] - dark))
    skin = edge - lash - (upper[-1] + 1 if upper.size else 0)
    return float(np.clip(top - (y0 + edge), 0.0, 0.25 * width)), float(np.clip(skin, 2.0, 0.3 * width))


def brow_depth(grey: np.ndarray, eye: np.ndarray, brow: np.ndarray) -> float:
    """How far (pixels) the brow reaches below its landmarks' line (which runs along its top), over the eye's middle:
    down to where the skin begins again under its darkest row. 0 where no brow stands out."""
    width = eye[3, 0] - eye[0, 0]
    y0 = int(round(float(curve(np.float32([(eye[0, 0] + eye[3, 0]) / 2]), brow)[0])))
    y1 = int(np.floor(eye[[1, 2], 1].mean()))
    profile = _down_the_middle(grey, eye, y0, y1) if y1 - y0 >= 3 else None
    if profile is None:
        return 0.0
    darkest = int(np.argmin(profile[:max(int(0.4 * width), 2)]))
    skin = profile[darkest:].max()
    if skin - profile[darkest] < 10:
        return 0.0
    return float(darkest + np.argmax(profile[darkest:] > (profile[darkest] + skin) / 2))


@dataclass(frozen=True)
class Lid:
    """One upper eyelid, in the eye's own frame: a box turned so that the eye's corners are level (a tilted head's
    lid closes along the eye, not down the photo's columns, which left straight-sided patches on tilted eyes).
    Its edge, travel, and the photo's skin colour over the eye are all measured in that box."""

    to_box: np.ndarray  # (2, 3) affine map from photo to box coordinates
    back: tuple[slice, slice]  # the photo's rectangle the box lies in
    ys: np.ndarray  # (h, 1) row coordinates of the box
    top: np.ndarray  # (w,) upper lid edge in each column
    reach: np.ndarray  # (w,) how far the edge travels to meet the lower lid
    lash: float  # thickness of the lash line
    skin: np.ndarray  # (h, w, 3) the colour the skin around the eye has, carried smoothly over the eye, its
    # darkest (brow hairs, lashes) left out
    lit: np.ndarray  # (h, w, 3) the same with more left out: shadows, frames (LIT against SKIN_DARKEST)
    fold: np.ndarray  # (w,) how far above the photo's lash line its lid's fold lies: a closing lid takes it in
    lashes: np.ndarray  # (3,) the lash line's colour
    across: np.ndarray  # (w,) how much of the lid is painted, column by column: 1 over the eye, fading out at its
    # inner corner and past its outer one
    ball: np.ndarray  # (w,) 1 mid-eye, 0 at its corners: the eyeball under the lid, across
    texture: np.ndarray  # (h, w) the under-eye skin's relief and the fine texture around, a share of brightness
    grain: np.ndarray  # (h, w) the photo's grain, turned with the box
    along: np.ndarray  # (w,) 0 at the inner corner, 1 at the outer, on past it
    clumps: np.ndarray  # (n, 3) the lashes' clumps: where along the lid (as `along`), how dark, how long
    width: float  # the eye's, pixels

    @classmethod
    def build(cls, eye: np.ndarray, brow: np.ndarray, image: np.ndarray, grey: np.ndarray, iod: float,
              look: PhotoLook, outer: int) -> "Lid":
        """The lid over `eye` (its 6 landmarks; `outer`: 0 or 3, which of its corners is the outer one)."""
        # The eye's frame: the photo turned about the eye's middle until its corners are level, in a square that
        # holds all the lid is measured from (the fold and brow above, the skin around and under the eye). Its
        # offset is whole pixels, so an untilted eye's frame is the photo itself, pixel for pixel.
        photo = image.shape[:2]
        in_photo = (image, grey, eye)  # (the lid's detail is matched in the photo's own frame: see _detail_gain)
        middle = (eye[0] + eye[3]) / 2
        half = int(1.6 * np.linalg.norm(eye[3] - eye[0])) + 8
        tilt = np.degrees(np.arctan2(eye[3, 1] - eye[0, 1], eye[3, 0] - eye[0, 0]))
        turn = cv2.getRotationMatrix2D((float(middle[0]), float(middle[1])), float(tilt), 1.0)
        turn[:, 2] += np.round(half - middle)
        size = 2 * half
        image = cv2.warpAffine(image, turn, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        grey = cv2.warpAffine(grey, turn, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        eye, brow = (cv2.transform(points[None].astype(np.float64), turn)[0] for points in (eye, brow))

        lash = max(0.028 * iod, 1.5)
        lift, skin_h = lid_lift(grey, eye, lash)
        x0, x1 = int(np.floor(eye[0, 0])), int(np.ceil(eye[3, 0])) + 1
        width = x1 - x0
        past = int(np.ceil(OUTER_REACH * width))
        x0, x1 = (x0 - past, x1) if outer == 0 else (x0, x1 + past)
        cols = np.arange(x0, x1, dtype=np.float32)
        across = lens(cols, (eye[0, 0] + eye[3, 0]) / 2, width / 2)
        top = arc(cols, eye[[0, 1, 2, 3]]) - lift * across
        bottom = arc(cols, eye[[0, 5, 4, 3]])
        reach = np.maximum(bottom - top, 0) + 1.0 * across  # a pixel past the lower lid: the lashes meet
        y0 = max(int(np.floor(top.min() - 1.5 * lash - skin_h - 2)) - 6, 0)
        y1 = min(int(np.ceil(bottom.max() + lash)) + 3, size)
        x0c, x1c = max(x0, 0), min(x1, size)
        keep = slice(x0c - x0, x1c - x0)
        # The lid's colour: the skin around the eye carried over it (a deep-set eye's shadow and all, its brow hairs
        # and lashes not), so it meets the photo without a seam on any side; lower, where a closed lid bulges into
        # the light, that skin without its shadows and frames either (a deep socket's shade kept: left out, lids
        # were light eggs in it).
        opening = np.concatenate([np.stack([cols, top], 1), np.stack([cols, bottom], 1)[::-1]])
        box = (slice(y0, y1), slice(x0c, x1c))
        skin = _skin_over(image, opening, lash, width, box, darkest=SKIN_DARKEST)
        lit = _skin_over(image, opening, lash, width, box, darkest=LIT)
        line = [image[int(np.clip(round(t), 0, size - 1)), c] for t, c in zip(top[keep], range(x0c, x1c))]
        line = np.array(line, np.float32).reshape(-1, 3)
        light = luma(line)
        lashes = line[light <= np.percentile(light, 30)].mean(0) if len(line) else skin.mean((0, 1)) * 0.4
        # The paint fades out at the inner corner, where the lids meet anyway, and past the outer one.
        to_inner, to_outer = cols - eye[0, 0], eye[3, 0] - cols
        if outer == 0:
            to_inner, to_outer = to_outer, to_inner
        fade = smoothstep(0.0, CORNER_FADE * width, to_inner) * smoothstep(-past, 0.0, to_outer)
        under_eye = int(bottom.max() + 0.1 * width)
        texture = (_under_eye_relief(grey, slice(y0, y1), slice(x0c, x1c), under_eye)
                   + _fine_texture(grey, opening, lash, box, under_eye))
        # The fold the lid takes in ends under the brow, its dome's shape kept, flattened towards the corners (a
        # dome that came down to them left the open lid's corners showing above the closed one's).
        room = np.maximum((top - 1.5 * lash) - (curve(cols, brow) + brow_depth(grey, eye, brow)), 0.0)
        rise = np.maximum(across ** 2, CORNER_FOLD)
        mid = across ** 2 > 0.25
        crease = min(max(skin_h + 2.0 - 0.5 * lash, 0.0), float(np.min(room[mid] / rise[mid])))
        fold = np.minimum(crease * rise, room)

        to_box = turn - np.array([[0, 0, x0c], [0, 0, y0]])
        h, w = y1 - y0, x1c - x0c
        corners = cv2.transform(np.array([[[0, 0], [w, 0], [0, h], [w, h]]], np.float64),
                                cv2.invertAffineTransform(to_box))[0]
        (px0, py0), (px1, py1) = np.floor(corners.min(0)) - 1, np.ceil(corners.max(0)) + 2
        back = (slice(int(max(py0, 0)), int(min(py1, photo[0]))), slice(int(max(px0, 0)), int(min(px1, photo[1]))))
        grain = cv2.warpAffine(look.grain, to_box, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        lid = cls(to_box, back, np.arange(y0, y1, dtype=np.float32)[:, None], top[keep],
                  reach[keep], lash, skin, lit, fold[keep].astype(np.float32),
                  np.minimum(lashes, skin.mean((0, 1)) * 0.6).astype(np.float32), fade[keep].astype(np.float32),
                  across[keep].astype(np.float32), texture, grain, (to_inner[keep] / width).astype(np.float32),
                  _lash_clumps(lash / width, seed=outer), float(width))
        # Its detail (the relief and fine texture it borrows, the grain) as strong as the skin's under the eye:
        # borrowed through blurs, mirrored, clipped and turned, it came out smoother than that skin, a plastic patch.
        gain = lid._detail_gain(*in_photo, iod, look)
        return replace(lid, texture=texture * gain, grain=grain * gain)

    def paint(self, out: np.ndarray, closure: float, look: PhotoLook) -> None:
        """Paint the lid `closure` (0..1) closed into `out` (which the head has not moved: see FaceRig)."""
        h, w = self.grain.shape
        region = cv2.warpAffine(out, self.to_box, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        edge = self.top + closure * self.reach  # where the lashes are now
        fold = self.fold_taken(closure)
        reach_up = self.begins(closure)
        u = (self.ys - reach_up) / np.maximum(edge - reach_up, 1.0)  # 0 where the lid begins, 1 at the lashes
        # Shaded as skin over a ball: a little lighter mid-lid, darker down to the lashes and out to the corners.
        shade = 1.0 + 0.05 * np.sin(np.pi * np.clip(u, 0, 1)) - 0.16 * smoothstep(0.6, 1.0, u)
        shade = shade * (1 - ROUNDING * (1 - self.ball))
        # Its top is the photo's own skin, turning into the smooth lid under the brow or frame, which stay: all lid
        # from halfway down the part of the fold it takes in; lower, where it bulges, the lit skin's colour.
        bulge = LIT_SHARE * smoothstep(0.2, 0.6, u)[..., None]
        base = self.skin * (1 - bulge) + self.lit * bulge
        body = self._meet(look.paint(base * (shade + self.texture)[..., None], self.grain), region, reach_up, u)
        into = smoothstep(reach_up - 1.0, reach_up + 0.5 * fold, self.ys)[..., None]
        colour = region * (1 - into) + body * into
        line, hanging = self._lash_darkness(edge)
        strength = LASH_OPACITY * min(1.0, 3 * closure)
        lash = np.maximum(line, hanging)[..., None] * strength
        colour = colour * (1 - lash) + self.lashes * lash
        cover = smoothstep(reach_up - 2.0, reach_up, self.ys) * (
            1 - smoothstep(edge + 0.3 * self.lash, edge + 0.9 * self.lash, self.ys))
        cover = cover * self.across[None] * min(1.0, 4 * closure)
        cover = cv2.GaussianBlur(cover.astype(np.float32), (0, 0), look.softness * 0.7)[..., None]
        # The lashes hang on past the lid, over the eye or the lower lid.
        past_lid = cv2.GaussianBlur((hanging * self.across[None] * strength).astype(np.float32), (0, 0),
                                    look.softness * 0.5)[..., None] * (1 - cover)
        # Back into the photo's frame as the lid's colour times its cover, and the cover: what the lid leaves
        # uncovered is not resampled.
        lid = np.concatenate([colour * cover + self.lashes * past_lid, cover + past_lid], -1).astype(np.float32)
        rows, cols = self.back
        from_back = self.to_box + self.to_box[:, :2] @ np.array([[0, 0, cols.start], [0, 0, rows.start]])
        lid = cv2.warpAffine(lid, from_back, (cols.stop - cols.start, rows.stop - rows.start),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)
        under = out[rows, cols].astype(np.float32)
        out[rows, cols] = (under * (1 - lid[..., 3:]) + lid[..., :3]).clip(0, 255).astype(np.uint8)

    def _lash_darkness(self, edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How dark the lashes make each pixel of the box (0..1) with the lid's edge at `edge` (per column): the line
        along the edge, thinner towards the inner corner, and the lashes hanging below it, sweeping outwards
        towards the outer corner. Returns (line, hanging)."""
        thick = self.lash * (LASH_TAPER + (1 - LASH_TAPER) * smoothstep(0.0, 0.5, self.along))
        below = self.ys - edge
        line = np.exp(-0.5 * (below / (LASH_SPREAD * thick)) ** 2)
        hanging = np.zeros_like(line)
        rows = np.flatnonzero(((below > 0) & (below < 3 * LASH_HANG * thick)).any(1))
        if rows.size == 0:
            return line, hanging
        band = slice(rows[0], rows[-1] + 1)
        down = np.maximum(below[band], 0.0)[..., None]
        grew = self.along - LASH_SWEEP * (self.along - 0.3) * down[..., 0] / self.width  # where along the lid a
        # lash hanging this far down grew from
        where, dark, length = self.clumps.T
        clump = max(0.5, 0.3 * self.lash) / self.width
        strands = (dark * np.exp(-0.5 * ((grew[..., None] - where) / clump) ** 2)
                   * np.exp(-0.5 * (down / (length * LASH_HANG * thick[:, None])) ** 2))
        hanging[band] = np.clip(strands.sum(-1), 0.0, 1.0) * (below[band] > 0)
        return line, hanging

    def _detail_gain(self, image: np.ndarray, grey: np.ndarray, eye: np.ndarray, iod: float, look: PhotoLook) -> float:
        """How much stronger this lid's texture and grain must be for its fine detail, shut, to match the photo's skin
        under the eye: what a 1.5 px blur takes from the upper half of the eye's middle, painted shut, against what it
        takes from the skin 0.1-0.25 inter-ocular under it (spread as a median deviation: a stray lash or frame does
        not count). 1 to DETAIL_MOST."""
        shut = image.copy()
        self.paint(shut, 1.0, look)
        shut = cv2.cvtColor(shut, cv2.COLOR_RGB2GRAY)
        width = eye[3, 0] - eye[0, 0]
        cols = slice(max(int(eye[0, 0] + 0.3 * width), 0), int(eye[3, 0] - 0.3 * width))
        top, bottom = int(eye[[1, 2], 1].min()) - 1, int(eye[[4, 5], 1].max())
        lid = slice(max(top, 0), (top + bottom) // 2 + 1)
        under = slice(bottom + int(0.1 * iod), bottom + int(0.25 * iod))
        painted, skin = (_fine_detail(g.astype(np.float32))[rows, cols] for g, rows in ((shut, lid), (grey, under)))
        if painted.size < 20 or skin.size < 20:
            return 1.0
        return float(np.clip(_spread(skin) / max(_spread(painted), 1e-3), 1.0, DETAIL_MOST))

    def fold_taken(self, closure: float) -> np.ndarray:
        """How much of the fold above (per column, pixels) the lid `closure` closed takes in."""
        return FOLD_TAKEN * self.fold * min(1.0, 2 * closure)

    def begins(self, closure: float) -> np.ndarray:
        """Where (per column, the box's rows) the lid `closure` closed begins. Above the photo's own lash line, which
        it covers, it takes in the photo's skin towards the next dark thing (a brow, a glasses frame), part of the
        fold with it, never the brow itself; at the inner corner, where the lid does not move, it fades out (see
        `across`), and past the outer one."""
        return (self.top - 1.5 * self.lash) - self.fold_taken(closure)

    def _meet(self, body: np.ndarray, region: np.ndarray, reach_up: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The lid's `body` shifted, column by column, to the photo's colour just above where it begins, the shift
        fading out over the lid's upper part (TOP_REACH): its top meets the photo without a rim (a deep socket's
        shade runs onto the lid, as on a real one) while its bulge keeps the lit skin's colour. Compared blurred,
        so that the skin's texture, not its colour, tells the two apart."""
        h, w = u.shape
        sigma = max(1.5, self.lash)
        photo, lid = cv2.GaussianBlur(region, (0, 0), sigma), cv2.GaussianBlur(body.astype(np.float32), (0, 0), sigma)
        row = reach_up - self.ys[0, 0]
        above, below = (np.clip(np.round(row + d).astype(int), 0, h - 1) for d in (-2, 1))
        shift = photo[above, np.arange(w)] - lid[below, np.arange(w)]
        shift = gaussian_filter1d(shift, max(1.0, 0.1 * w), axis=0, mode="nearest")
        return body + shift[None] * (1 - smoothstep(0.0, TOP_REACH, u))[..., None]


def _lash_clumps(spacing: float, seed: int) -> np.ndarray:
    """Clumps of lashes along a lid (n, 3): where (0 at the inner corner, 1 at the outer, about `spacing` apart),
    how dark (0.4-0.8 of the lash line) and how long (0.5-1.4 of LASH_HANG). Real lashes clump unevenly; a fixed
    seed keeps them the same from frame to frame and run to run."""
    rng = np.random.default_rng(seed)
    where = np.arange(-0.1, 1.3, spacing)
    where = where + rng.uniform(-0.35, 0.35, len(where)) * spacing
    return np.stack([where, rng.uniform(0.4, 0.8, len(where)), rng.uniform(0.5, 1.4, len(where))], 1).astype(np.float32)


def _fine_detail(grey: np.ndarray) -> np.ndarray:
    """What a 1.5 px blur takes from an image: its finest detail (grain, pores, fine lines)."""
    return grey - cv2.GaussianBlur(grey, (0, 0), 1.5)


def _spread(values: np.ndarray) -> float:
    """Robust spread (median absolute deviation, scaled to a standard deviation) of an array's values."""
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


def _skin_mask(light: np.ndarray, opening: np.ndarray, grow: int, darkest: float) -> np.ndarray:
    """Which pixels of `light` (brightness, h x w) are skin around an eye (uint8 0/1): not in its opening (a
    polygon, widened by `grow` pixels), not darker than `darkest` times the median of the rest (shadow, brows,
    frames), not much brighter (an eye's white the landmarks missed, a glint)."""
    skin = np.ones(light.shape, np.uint8)
    cv2.fillPoly(skin, [np.round(opening).astype(np.int32)], 0)
    skin = cv2.erode(skin, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    if skin.any():
        middle = np.median(light[skin > 0])
        skin[(light < darkest * middle) | (light > BRIGHTEST * middle)] = 0
    return skin


def _skin_over(image: np.ndarray, opening: np.ndarray, lash: float, width: int, box: tuple[slice, slice],
               darkest: float = 0.0) -> np.ndarray:
    """The colour of the skin around an eye, carried smoothly over it, in `box` (h, w, 3 float32).

    A blur of the photo with the eye's opening (`opening`, a polygon, widened by its lashes) left out, and any
    pixel darker than `darkest` times the median (shadow, brows, frames) or much brighter (an eye's white the
    landmarks missed, a glint), normalised by how much each blur took in.
    """
    size = image.shape[0]
    pad = int(0.5 * width) + 2
    by0, bx0 = max(box[0].start - pad, 0), max(box[1].start - pad, 0)
    by1, bx1 = min(box[0].stop + pad, size), min(box[1].stop + pad, image.shape[1])
    patch = image[by0:by1, bx0:bx1].astype(np.float32)
    skin = _skin_mask(luma(patch), opening - (bx0, by0), 2 * int(np.ceil(lash)) + 1, darkest)
    sigma = max(2.0, 0.15 * width)
    weight = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), sigma)[..., None]
    fallback = patch[skin > 0].mean(0) if skin.any() else patch.reshape(-1, 3).mean(0)
    # Where the blur took in (almost) nothing, the mean of what was kept takes over, smoothly.
    colour = (cv2.GaussianBlur(patch * skin[..., None], (0, 0), sigma) + 0.02 * fallback) / (weight + 0.02)
    return colour[box[0].start - by0:box[0].stop - by0, box[1].start - bx0:box[1].stop - bx0].astype(np.float32)


def _fine_texture(grey: np.ndarray, opening: np.ndarray, lash: float, box: tuple[slice, slice],
                  below: int) -> np.ndarray:
    """The skin's fine texture over the lid's `box` (h, w), a share of its brightness: the photo's own where it shows
    skin (so the lid's top, over the fold, keeps the very grain it had), over the eye (`opening`, widened by its
    lashes) the skin under it (from row `below`), mirrored. Clipped to the skin's typical strength (its median
    deviation): the deep lines of a wrinkled face's under-eye, carried up, drew bands across the lid."""
    g = grey.astype(np.float32)
    smooth = cv2.GaussianBlur(g, (0, 0), FINE_BLUR)
    share = (g - smooth) / (smooth + 1.0)
    skin = _skin_mask(g, opening, 2 * int(np.ceil(2 * lash)) + 1, LIT)
    rows, cols = box
    h, w = rows.stop - rows.start, cols.stop - cols.start
    y0 = min(max(below, 0), g.shape[0] - 1)
    under = share[y0:y0 + h, cols][::-1]
    if under.shape[0] < 4 or not skin.any():
        return np.zeros((h, w), np.float32)
    # (cut short by the frame's bottom: mirrored on at the far end, the skin nearest the eye stays at the lashes)
    under = np.pad(under, ((h - under.shape[0], 0), (0, 0)), mode="symmetric")
    keep = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), 1.0)[rows, cols]
    typical = 1.4826 * float(np.median(np.abs(share[skin > 0])))
    return np.clip(share[rows, cols] * keep + under * (1 - keep), -typical, typical).astype(np.float32)


def _under_eye_relief(grey: np.ndarray, rows: slice, cols: slice, below: int) -> np.ndarray:
    """The relief of the skin under the eye (creases, folds: what a blur the size of a crease removes, less the
    grain, which the painter adds anyway), as many rows as the lid's box, mirrored so that the skin nearest the eye
    lies nearest the lashes; a share of the skin's brightness, tempered. Its strongest tenth (a glasses frame, a
    lash) is clipped: only skin is wanted."""
    h, w = rows.stop - rows.start, cols.stop - cols.start
    y0 = min(max(below, 0), grey.shape[0] - 1)
    patch = grey[y0:min(y0 + h, grey.shape[0]), cols].astype(np.float32)
    if patch.shape[0] < 4 or w < 4:
        return np.zeros((h, w), np.float32)
    relief = (cv2.GaussianBlur(patch, (0, 0), 1.0) - cv2.GaussianBlur(patch, (0, 0), max(2.0, 0.1 * w)))
    relief /= patch.mean() + 1.0
    low, high = np.percentile(relief, [5, 95])
    relief = RELIEF * np.clip(relief, low, high)[::-1]
    return np.pad(relief, ((h - relief.shape[0], 0), (0, 0)), mode="symmetric")  # (as in _fine_texture)


@dataclass(frozen=True)
class EyeFields:
    """Gaze and brow displacement fields over the rig's region of interest, per unit of control (`still`: how much
    of it each pixel may take, 0 at the frame's edges)."""

    gaze: np.ndarray  # x: source offset for a full look to the image's right
    brows: np.ndarray  # y: source offset for a full lift

    @classmethod
    def build(cls, lm: np.ndarray, iod: float, xs: np.ndarray, ys: np.ndarray, still: np.ndarray) -> "EyeFields":
        gaze = np.zeros_like(xs)
        for eye in (lm[EYE_L], lm[EYE_R]):
            width = eye[3, 0] - eye[0, 0]
            cx = (eye[0, 0] + eye[3, 0]) / 2
            top, bottom = curve(xs[0], eye[[0, 1, 2, 3]]), curve(xs[0], eye[[0, 5, 4, 3]])
            inside = smoothstep(top, top + 0.08 * width, ys) * smoothstep(bottom, bottom - 0.08 * width, ys)
            gaze -= GAZE_REACH * width * lens(xs, cx, 0.42 * width) * inside  # the eye looks right: sample left
        brows = np.zeros_like(xs)
        for brow, eye in ((lm[BROW_L], lm[EYE_L]), (lm[BROW_R], lm[EYE_R])):  # each brow over its own eye
            line = curve(xs[0], brow)
            lid = np.maximum(curve(xs[0], eye[[0, 1, 2, 3]]) - 0.05 * iod, line + 0.15 * iod)
            across = lens(xs, brow[:, 0].mean(), 0.65 * (brow[:, 0].max() - brow[:, 0].min()) + 2)
            down = 1 - smoothstep(line + 0.1 * iod, lid, ys)  # the lid's crease stays
            up = smoothstep(line - 0.7 * iod, line - 0.1 * iod, ys)
            brows += BROW_LIFT * iod * across * np.minimum(down, up)
        return cls((gaze * still).astype(np.float32), (brows * still).astype(np.float32))
