"""The CPU engine: animate the photo itself by warping it, with no learned weights beyond the landmark model.

Per video the rig (FaceRig) measures the photo once: its look (look.py), the head cut out over a still plate
(head.py), the mouth's fields and painter (mouth.py), the lids, gaze and brows (eyes.py). Per frame it paints the
lids into the photo when they close, builds one expression map (jaw, lips, gaze, brows) and one head map, warps
the head layer through both with `cv2.remap`, lays it over the still plate, and paints what the parted lips show.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np

from ...face import BROW_L, BROW_R, BROWS, CHIN, EDGE_BAND, EYE_L, EYE_R, Face
from .. import Cost, Progress, RenderJob
from .eyes import EyeFields, Lid, behind_dark_lenses
from .head import HeadLayer
from .look import PhotoLook, luma
from .mouth import LipEdge, Mouth
from .shapes import edge_fade

SPREAD_WIDEN, ROUND_NARROW = 0.12, 0.2  # share of the mouth's width a full "ee" adds and a full "oo" takes


@dataclass(frozen=True)
class Controls:
    """One frame's pose and expression, in pixels and radians."""

    open_px: float  # gap beyond the photo's own
    close_px: float  # how far an open photo's lips close (see Mouth)
    widen: float  # relative change of mouth width: + spread, - rounded
    blink: float
    yaw: float
    pitch: float
    roll: float
    gaze: float = 0.0  # -1..1, the eyes look to the image's left .. right
    brow: float = 0.0  # 0..1
    rounded: float = 0.0  # 0..1, how rounded the lips are (an "oo"): they part as an oval


class FaceRig:
    """Precomputed fields for one portrait; `frame(controls)` renders one frame. `others`: landmarks of other
    faces in the portrait (a group photo's neighbours), which never move with this head."""

    def __init__(self, portrait: np.ndarray, face: Face, others: tuple[np.ndarray, ...] = ()):
        self.image = portrait
        size = portrait.shape[0]
        lm = face.landmarks.astype(np.float32)
        iod = face.inter_ocular
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        self.base = np.dstack([xs, ys])  # identity map, (H, W, 2)
        self.look = PhotoLook.of(portrait, face)
        # Expression lives in a region of interest around the brows, eyes, mouth and chin.
        x0, x1 = int(max(lm[:, 0].min() - 0.3 * iod, 0)), int(min(lm[:, 0].max() + 0.3 * iod, size))
        y0, y1 = int(max(lm[BROWS, 1].min() - 0.8 * iod, 0)), int(min(lm[CHIN, 1] + 0.8 * iod, size))
        self.roi = (slice(y0, y1), slice(x0, x1))
        roi_ys, roi_xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        self.roi_x, self.roi_y = roi_xs, roi_ys
        # The frame's edges stay put: expression fades out before them, as the head's motion does.
        still = edge_fade(roi_xs, roi_ys, size, EDGE_BAND)
        self.mouth = Mouth(portrait, lm, iod, self.look, roi_xs, roi_ys, still)
        self.eyes = EyeFields.build(lm, iod, roi_xs, roi_ys, still)
        grey = cv2.cvtColor(portrait, cv2.COLOR_RGB2GRAY)
        skin = float(luma(self.look.skin))
        # Dark glasses hide both eyes: one dark eye alone is in shadow (or squints), and still blinks.
        hidden = all(behind_dark_lenses(lm[eye], grey, skin) for eye in (EYE_L, EYE_R))
        # (0 and 3: which of each eye's six landmarks is its outer corner, dlib's 36 and 45)
        self.lids = [] if hidden else [Lid.build(lm[eye], lm[brow], portrait, grey, iod, self.look, outer)
                                       for eye, brow, outer in ((EYE_L, BROW_L, 0), (EYE_R, BROW_R, 3))]
        self.head = HeadLayer(portrait, lm, iod, others)
        my, mx = self.head.moving
        self.moving = (slice(min(my.start, y0), max(my.stop, y1)), slice(min(mx.start, x0), max(mx.stop, x1)))
        self.local = self.base.copy()

    def controls(self, open_iod: float, rounded: float, spread: float, blink: float, yaw, pitch, roll,
                 gaze: float = 0.0, brow: float = 0.0) -> Controls:
        open_px, close_px = self.mouth.gaps(open_iod)
        return Controls(open_px=open_px, close_px=close_px, widen=SPREAD_WIDEN * spread - ROUND_NARROW * rounded,
                        blink=blink, yaw=yaw, pitch=pitch, roll=roll, gaze=gaze, brow=brow, rounded=rounded)

    def frame(self, c: Controls) -> np.ndarray:
        # Expression map: source coordinates for each pixel before the head moves.
        roi, m = self.roi, self.mouth
        local_x = cv2.scaleAdd(m.widen_field, c.widen, self.roi_x)  # a * field + coordinates, in one pass
        local_y = m.open(self.roi_y, c.open_px, c.rounded)
        if c.gaze:
            cv2.scaleAdd(self.eyes.gaze, c.gaze, local_x, dst=local_x)
        if c.brow:
            cv2.scaleAdd(self.eyes.brows, c.brow, local_y, dst=local_y)
        lip_edge = m.close(local_y, c.close_px) if c.close_px > 0 else None
        self.local[roi] = cv2.merge([local_x, local_y])
        fwd = self.head.forward(c.yaw, c.pitch, c.roll)
        moved = float(np.abs(fwd).max())
        source = self.head.source(moved)
        if c.blink > 0.02 and self.lids:  # lids are painted into the photo, so they move with everything else
            source = source.copy()
            for lid in self.lids:
                lid.paint(source[..., :3], c.blink, self.look)
        # Head map, and the expression composed with it only where it can land in the expression's region
        # (elsewhere the expression map is the identity): the source of each moving pixel.
        head = self.head.source_map(fwd, self.moving)
        reach = int(np.ceil(moved)) + 2
        edge = self._shared_edge(lip_edge, local_x, local_y, source, head, reach) if lip_edge is not None else None
        (ry, rx), (my, mx) = roi, self.moving
        rows = slice(max(ry.start - reach - my.start, 0), max(min(ry.stop + reach, my.stop) - my.start, 0))
        cols = slice(max(rx.start - reach - mx.start, 0), max(min(rx.stop + reach, mx.stop) - mx.start, 0))
        if rows.stop > rows.start and cols.stop > cols.start:  # (remap's result is a new array: head can take it)
            head[rows, cols] = cv2.remap(self.local, head[rows, cols], None, cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_REPLICATE)
        # (x, y) maps go to remap as one two-channel array: split, each would be copied first.
        layer = cv2.remap(source, head, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if edge is not None:
            (er, ec), shared = edge
            layer[er, ec] = (layer[er, ec] + shared).clip(0, 255).astype(np.uint8)
        out = self.image.copy()
        out[self.moving] = self.head.composite(layer, self.moving)
        m.paint(out, self.local[roi], c.open_px, c.widen, fwd)
        if c.close_px > 0:
            m.seal(out, c.close_px, c.widen, fwd)
        return out

    def _shared_edge(self, edge: LipEdge, local_x: np.ndarray, local_y: np.ndarray, source: np.ndarray,
                     head: np.ndarray, reach: int) -> tuple[tuple[slice, slice], np.ndarray] | None:
        """What sharing the edge where the rising jaw or lower lip meets the teeth (`edge`) adds to the head's
        layer, in the pixels of the moving region near it (`head`, before the expression is composed in, says where
        each took its content from; `reach`: how far the head moved anything)."""
        (ry, rx), (my, mx) = self.roi, self.moving
        rows = edge.rows
        xs = local_x[rows]
        main, other = (cv2.remap(source, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
                       for ys in (local_y[rows], edge.other_y))
        change = (other - main) * edge.share[..., None]  # in the expression's frame, over the band's rows
        top, left = ry.start + rows.start, rx.start
        out_rows = slice(max(top - reach, my.start) - my.start, min(top + xs.shape[0] + reach, my.stop) - my.start)
        out_cols = slice(max(left - reach, mx.start) - mx.start, min(rx.stop + reach, mx.stop) - mx.start)
        if out_rows.stop <= out_rows.start or out_cols.stop <= out_cols.start:
            return None
        at = head[out_rows, out_cols] - np.float32([left, top])  # (then moved with the head)
        return (out_rows, out_cols), cv2.remap(change, at, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


class WarpEngine:
    """Runs anywhere: numpy and OpenCV only."""

    name = "warp"
    controls = frozenset({"motion", "seed"})  # it draws every frame from the motion plan
    cost = Cost(2.0, 0.3)  # measured on a 2-core CPU (benchmarks/speed.py)
    preference = 0  # the fallback: it always runs

    @classmethod
    def unavailable_reason(cls, auto: bool) -> str | None:
        return None

    @classmethod
    def load(cls) -> "WarpEngine":
        # OpenCV's threads are left alone here (see video.share_cores_with_the_encoder): an engine may be loaded in
        # a child forked after OpenCV's threads ran (a ZeroGPU job, a benchmark's worker), where changing their
        # number waits forever.
        return cls()

    def render(self, job: RenderJob, progress: Progress) -> Iterator[np.ndarray]:
        rig = FaceRig(job.portrait, job.face, job.others)
        m = job.motion
        for i in range(job.n_frames):
            yield rig.frame(rig.controls(m.mouth_open[i], m.mouth_round[i], m.mouth_spread[i], m.blink[i],
                                         m.yaw[i], m.pitch[i], m.roll[i], m.gaze[i], m.brow[i]))
            progress(i + 1, job.n_frames)
