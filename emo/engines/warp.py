"""The CPU engine: animate the photo itself by warping it, with no learned weights beyond the landmark model.

Every frame is one backward warp of the portrait: a few precomputed displacement fields (jaw drop, lip width,
eyelids) scaled by that frame's controls, composed with a smooth head rotation that fades out before the background,
then a painted mouth interior where the lips part. Fields are built once per video, so a frame costs a handful of
array operations and two `cv2.remap` calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np

from ..face import EYE_L, EYE_R, Face
from . import Progress, RenderJob

LOW = 4  # the head field is smooth: compute it at 1/LOW resolution and upsample


def _smoothstep(edge0, edge1, x):
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _lens(x: np.ndarray, centre: float, half_width: float) -> np.ndarray:
    """1 at `centre`, falling to 0 at +-half_width like the outline of parted lips."""
    return np.sqrt(np.clip(1 - ((x - centre) / half_width) ** 2, 0, 1))


def _curve(xs: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """y of the polyline through `pts` (sorted by x) at each x, held flat beyond its ends."""
    order = np.argsort(pts[:, 0])
    return np.interp(xs, pts[order, 0], pts[order, 1])


@dataclass(frozen=True)
class Controls:
    """One frame's pose and expression, in pixels and radians."""

    open_px: float
    widen: float  # relative change of mouth width: + spread, - rounded
    blink: float
    yaw: float
    pitch: float
    roll: float


class FaceRig:
    """Precomputed fields for one portrait; `frame(controls)` renders one frame."""

    def __init__(self, portrait: np.ndarray, face: Face):
        self.image = portrait
        self.size = size = portrait.shape[0]
        lm = face.landmarks.astype(np.float32)
        self.lm = lm
        self.iod = face.inter_ocular
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        self.base = np.dstack([xs, ys])  # identity map, (H, W, 2)
        self._build_local(lm, face)
        self._build_head(lm)
        self._build_mouth_colours(lm)

    # --- expression: jaw, lips and eyelids, inside a region of interest around the lower face and eyes ---
    def _build_local(self, lm: np.ndarray, face: Face) -> None:
        iod, size = self.iod, self.size
        x0 = int(max(lm[:, 0].min() - 0.3 * iod, 0))
        x1 = int(min(lm[:, 0].max() + 0.3 * iod, size))
        y0 = int(max(lm[17:27, 1].min() - 0.3 * iod, 0))
        y1 = int(min(lm[8, 1] + 0.8 * iod, size))
        self.roi = (slice(y0, y1), slice(x0, x1))
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        col = xs[0]

        # Jaw drop: below the lips' seam, pixels sample from higher up; lens-shaped at the lips, chin-wide below.
        upper, lower = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
        seam = (_curve(col, upper) + _curve(col, lower)) / 2
        self.mouth_centre = np.array([(lm[60, 0] + lm[64, 0]) / 2, seam[np.searchsorted(col, (lm[60, 0] + lm[64, 0]) / 2).clip(0, len(col) - 1)]])
        self.mouth_half = max((lm[64, 0] - lm[60, 0]) / 2, 2.0)
        lens = _lens(col, self.mouth_centre[0], self.mouth_half * 1.05)
        jaw_half = (lm[12, 0] - lm[4, 0]) / 2
        chin = 1 - _smoothstep(0.45 * jaw_half, 1.05 * jaw_half, np.abs(col - self.mouth_centre[0]))
        lip_depth = max(lm[57, 1] - lm[66, 1], 0.05 * self.iod)
        t = np.clip((ys - seam) / lip_depth, 0, 1)
        below_chin = 1 - _smoothstep(lm[8, 1], lm[8, 1] + 0.55 * iod, ys)
        self.jaw = np.where(ys >= seam, ((1 - t) * lens + t * chin) * below_chin, 0).astype(np.float32)
        self.seam, self.seam_x = seam, col
        # A photo with parted lips already shows its own teeth; painting more would double them.
        self.draw_teeth = face.mouth_opening < 0.05

        # Lip width: scale about the mouth centre inside a soft window (spread widens, rounding narrows).
        dx, dy = xs - self.mouth_centre[0], ys - self.mouth_centre[1]
        window = np.exp(-(dx / (1.7 * self.mouth_half)) ** 2 - (dy / (1.1 * self.mouth_half)) ** 2)
        self.widen_field = (-dx * window).astype(np.float32)

        # Eyelids: between the brow and the lower lid, pixels sample from higher up, so the lid slides down.
        self.lid = np.zeros_like(self.jaw)
        self.eye_height = []
        for eye, brow in ((EYE_L, slice(17, 22)), (EYE_R, slice(22, 27))):
            pts = lm[eye]  # corner, upper, upper, corner, lower, lower
            top = _curve(col, pts[[0, 1, 2, 3]])
            bottom = _curve(col, pts[[0, 5, 4, 3]])
            brow_y = _curve(col, lm[brow])
            centre, half = (pts[0, 0] + pts[3, 0]) / 2, (pts[3, 0] - pts[0, 0]) / 2
            across = _lens(col, centre, half * 1.15)
            rise = _smoothstep(brow_y + 0.15 * (top - brow_y), top, ys)
            fall = 1 - _smoothstep(bottom + 0.5, bottom + 2.5, ys)
            self.lid += (across * rise * fall).astype(np.float32)
            self.eye_height.append(float(np.mean(pts[[5, 4], 1] - pts[[1, 2], 1])))
        self.lid_travel = max(np.mean(self.eye_height), 0.04 * self.iod) + 1.0
        self.local = self.base.copy()

    # --- head: rotation about the neck plus a turn/nod with parallax, fading out before the background ---
    def _build_head(self, lm: np.ndarray) -> None:
        n = self.size // LOW
        ys, xs = (np.mgrid[0:n, 0:n].astype(np.float32) + 0.5) * LOW - 0.5
        face_w = lm[16, 0] - lm[0, 0]
        brow_y, chin_y = lm[17:27, 1].min(), lm[8, 1]
        face_h = chin_y - brow_y
        cx, cy = lm[27:31, 0].mean(), (brow_y + chin_y) / 2
        r = np.hypot((xs - cx) / (0.68 * face_w), (ys - (cy - 0.2 * face_h)) / (1.05 * face_h))
        weight = 1 - _smoothstep(0.85, 1.3, r)
        self.pivot = np.array([cx, chin_y + 0.35 * face_h], np.float32)
        rf = np.hypot((xs - cx) / (0.55 * face_w), (ys - cy) / (0.7 * face_h))
        nose = np.exp(-((xs - lm[30, 0]) ** 2 + (ys - lm[30, 1]) ** 2) / (2 * (0.22 * self.iod) ** 2))
        depth = (np.clip(1 - rf ** 2, 0, 1) + 0.35 * nose) * 0.5 * face_w
        self.head_terms = np.stack([weight * (xs - self.pivot[0]), weight * (ys - self.pivot[1]), weight * depth])
        # Only pixels the head or the expression can move are warped; the rest is the photo as it is.
        rows, cols = np.nonzero(weight > 0)
        y0, y1 = rows.min() * LOW - 2 * LOW, (rows.max() + 1) * LOW + 2 * LOW
        x0, x1 = cols.min() * LOW - 2 * LOW, (cols.max() + 1) * LOW + 2 * LOW
        ry, rx = self.roi
        self.moving = (slice(max(min(y0, ry.start), 0), min(max(y1, ry.stop), self.size)),
                       slice(max(min(x0, rx.start), 0), min(max(x1, rx.stop), self.size)))
        self.low_grid = np.dstack([xs, ys]) / LOW  # low-res pixel coordinates of each low-res sample

    def _head_forward(self, c: Controls) -> np.ndarray:
        """Forward displacement (low-res, (n, n, 2)) of each source point."""
        ax, ay, az = self.head_terms
        cos, sin = np.cos(c.roll) - 1, np.sin(c.roll)
        fx = cos * ax - sin * ay + np.sin(c.yaw) * az
        fy = sin * ax + cos * ay + np.sin(c.pitch) * az
        return np.dstack([fx, fy]).astype(np.float32)

    # --- mouth interior colours, taken from the photo so they sit in its light ---
    def _build_mouth_colours(self, lm: np.ndarray) -> None:
        lips = np.zeros(self.image.shape[:2], np.uint8)
        cv2.fillPoly(lips, [lm[48:60].astype(np.int32)], 1)
        cv2.fillPoly(lips, [lm[60:68].astype(np.int32)], 0)
        img = self.image.astype(np.float32)
        lip = img[lips > 0].mean(0) if lips.any() else np.array([150, 80, 80], np.float32)
        cheeks = img[int(lm[29, 1]):int(lm[33, 1]) + 1, int(lm[31, 0]):int(lm[35, 0]) + 1].reshape(-1, 3)
        skin = cheeks.mean(0) if cheeks.size else np.array([200, 160, 140], np.float32)
        self.cavity = lip * np.array([0.32, 0.2, 0.2], np.float32)
        self.inner_lip = lip * np.array([0.72, 0.55, 0.55], np.float32)
        self.tongue = lip * np.array([0.8, 0.55, 0.55], np.float32)
        # Teeth take the photo's white balance and light from the skin around them.
        self.teeth = np.clip(0.45 * skin + 0.55 * np.array([240, 236, 228], np.float32), 0, 255)

    def controls(self, open_iod: float, rounded: float, spread: float, blink: float, yaw, pitch, roll) -> Controls:
        return Controls(open_px=open_iod * self.iod, widen=0.10 * spread - 0.16 * rounded, blink=blink,
                        yaw=yaw, pitch=pitch, roll=roll)

    def frame(self, c: Controls) -> np.ndarray:
        # Expression map: source coordinates for each pixel before the head moves.
        roi = self.roi
        self.local[roi + (0,)] = self.base[roi + (0,)] + c.widen * self.widen_field
        self.local[roi + (1,)] = self.base[roi + (1,)] - c.open_px * self.jaw - c.blink * self.lid_travel * self.lid
        # Head map: invert the forward displacement with one fixed-point step, at low resolution.
        fwd = self._head_forward(c)
        back = cv2.remap(fwd, self.low_grid[..., 0] - fwd[..., 0] / LOW, self.low_grid[..., 1] - fwd[..., 1] / LOW,
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        head = self.base[self.moving] - cv2.resize(back, (self.size, self.size), interpolation=cv2.INTER_LINEAR)[self.moving]
        src = cv2.remap(self.local, head[..., 0], head[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out = self.image.copy()
        out[self.moving] = cv2.remap(self.image, src[..., 0], src[..., 1], cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE)
        if c.open_px > 0.5:
            self._paint_mouth(out, c, fwd)
        return out

    def _paint_mouth(self, out: np.ndarray, c: Controls, fwd: np.ndarray) -> None:
        """Fill the gap the jaw opened: dark cavity, upper teeth (if the photo shows none) and a hint of tongue."""
        mx, half = self.mouth_centre[0], self.mouth_half
        xs = np.linspace(mx - half, mx + half, 24, dtype=np.float32)
        top = np.stack([xs, np.interp(xs, self.seam_x, self.seam)], 1)
        bottom = top + np.stack([np.zeros_like(xs), c.open_px * _lens(xs, mx, half * 1.05)], 1)
        poly = np.concatenate([top, bottom[::-1]])
        poly[:, 0] += c.widen * (poly[:, 0] - mx) * 0.8
        poly += _sample(fwd, poly / LOW)  # follow the head
        x0, y0 = np.floor(poly.min(0)).astype(int) - 3
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 4
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, self.size), min(y1, self.size)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        shift = 8  # sub-pixel polygon fill, then a slight blur: smooth lip edges
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(mask, [((poly - (x0, y0)) * (1 << shift)).astype(np.int32)], 1.0, cv2.LINE_AA, shift)
        mask = cv2.GaussianBlur(mask, (3, 3), 0.7)[..., None]

        gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        n = len(xs)
        top_y = _curve(gx[0], poly[:n])
        gap = np.maximum(_curve(gx[0], poly[n:]) - top_y, 1e-3)
        depth = np.clip((gy - top_y) / gap, 0, 1)  # 0 at the upper lip, 1 at the lower lip
        centre_x = poly[:, 0].mean()
        across = _lens(gx, centre_x, half * (1 + c.widen) * 0.95)[..., None]
        # Wet inner lips at the rim, darkening towards the back of the mouth.
        inside = (_smoothstep(0, 0.3, depth) * _smoothstep(1, 0.7, depth))[..., None] * _smoothstep(0.05, 0.5, across)
        interior = self.inner_lip * (1 - inside) + self.cavity * (0.6 + 0.4 * across) * inside
        if self.draw_teeth:
            tooth_h = np.minimum(0.08 * self.iod, 0.45 * gap) / gap
            teeth = ((1 - _smoothstep(tooth_h * 0.7, tooth_h, depth)) * _smoothstep(0.1, 0.5, across[..., 0]))[..., None]
            ridge = 0.95 + 0.05 * np.abs(np.cos(np.pi * (gx - centre_x) / (0.09 * self.iod)))[..., None]
            lip_shadow = 0.7 + 0.3 * _smoothstep(0, 0.4 * tooth_h, depth)[..., None]  # under the upper lip
            shade = (0.72 + 0.28 * across) * lip_shadow
            interior = interior * (1 - teeth) + self.teeth * ridge * np.clip(shade, 0.5, 1) * teeth
        tongue = (_smoothstep(0.6, 1.0, depth) * np.clip(gap / (0.3 * self.iod), 0, 1))[..., None] * across
        interior = interior * (1 - 0.6 * tongue) + self.tongue * 0.6 * tongue
        alpha = mask * min(c.open_px / 3.0, 1.0)
        patch = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = (patch * (1 - alpha) + interior * alpha).clip(0, 255).astype(np.uint8)


def _sample(field: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear values of a (h, w, 2) field at (x, y) points given in the field's own pixels."""
    h, w = field.shape[:2]
    x = np.clip(pts[:, 0], 0, w - 1.001)
    y = np.clip(pts[:, 1], 0, h - 1.001)
    x0, y0 = x.astype(int), y.astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    return ((field[y0, x0] * (1 - fx) + field[y0, x0 + 1] * fx) * (1 - fy)
            + (field[y0 + 1, x0] * (1 - fx) + field[y0 + 1, x0 + 1] * fx) * fy)


class WarpEngine:
    """Runs anywhere: numpy and OpenCV only."""

    name = "warp"

    @classmethod
    def unavailable_reason(cls, auto: bool) -> str | None:
        return None

    @classmethod
    def load(cls) -> "WarpEngine":
        return cls()

    def render(self, job: RenderJob, progress: Progress) -> Iterator[np.ndarray]:
        rig = FaceRig(job.portrait, job.face)
        m = job.motion
        for i in range(job.n_frames):
            yield rig.frame(rig.controls(m.mouth_open[i], m.mouth_round[i], m.mouth_spread[i], m.blink[i],
                                         m.yaw[i], m.pitch[i], m.roll[i]))
            progress(i + 1, job.n_frames)
