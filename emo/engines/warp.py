"""The CPU engine: animate the photo itself by warping it, with no learned weights beyond the landmark model.

Every frame is one backward warp of the portrait: precomputed displacement fields (mouth opening, lip width)
scaled by that frame's controls, upper eyelids that slide over the eyes, composed with a smooth head rotation that
carries the head (hair and hat included: it is cut out of the photo once) and fades out in the background around
it, then a painted mouth interior where the lips part. Fields are built once per video, so a frame costs a handful
of array operations and two `cv2.remap` calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np

from ..face import EYE_L, EYE_R, Face
from . import Progress, RenderJob

LOW = 4  # the head field is smooth: compute it at 1/LOW resolution and upsample
LIP_LIFT = 0.2  # share of the mouth's opening made by the upper lip rising; the jaw drops the rest
WIDEST = 0.36  # inner-lip gap of a wide sung "ah", in inter-ocular distances, photo's own gap included
CORNER_RAMP = 3.0  # how much longer the jaw's drop takes to build up under the mouth corners than mid-mouth
WIDEN_STILL = 0.5  # share of the mouth's half-width, about its middle, that rounding and spreading leave in place


def _smoothstep(edge0, edge1, x):
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _lip_sides(dx, half: float):
    """How much of a lip-width change reaches a point `dx` from the mouth's middle: none over the middle, all by the
    corners, so teeth the photo shows are covered or uncovered at the sides instead of squeezed or stretched."""
    return _smoothstep(WIDEN_STILL * half, half, np.abs(dx))


def _lens(x: np.ndarray, centre: float, half_width: float) -> np.ndarray:
    """1 at `centre`, falling to 0 at +-half_width along a half ellipse."""
    return np.sqrt(np.clip(1 - ((x - centre) / half_width) ** 2, 0, 1))


def _apart(x: np.ndarray, centre: float, half_width: float) -> np.ndarray:
    """How far parted lips are at x, 0..1: full mid-mouth, closing to a point at the corners (+-half_width)."""
    return np.clip(1 - ((x - centre) / half_width) ** 2, 0, 1) ** 0.8


def _curve(xs: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """y of the polyline through `pts` (sorted by x) at each x, held flat beyond its ends."""
    order = np.argsort(pts[:, 0])
    return np.interp(xs, pts[order, 0], pts[order, 1])


def _teeth_edge(grey: np.ndarray, col: np.ndarray, upper: np.ndarray, lower: np.ndarray, mx: float, half: float,
                iod: float) -> float:
    """Where the photo's upper teeth end, in pixels from the inner lower lip (negative: above it).

    Teeth belong to the skull and the jaw opens below them, so parted lips part again at the teeth's lower edge: the
    sharpest fall from bright to dark going down, in the lower half of the gap, over the middle of the mouth.
    """
    cols = np.flatnonzero(np.abs(col - mx) < 0.5 * half)
    offsets = []
    for c in cols:
        y0, y1 = int((upper[c] + lower[c]) / 2), int(np.ceil(lower[c] + 0.03 * iod)) + 1
        if y0 < 1 or y1 >= grey.shape[0] or y1 - y0 < 3:
            continue
        x = int(col[c])
        profile = grey[y0 - 1:y1 + 1, x - 1:x + 2].astype(np.float32).mean(1)
        fall = profile[:-2] - profile[2:]  # central difference, + where it darkens going down
        if fall.max() > 12:  # a clear edge; otherwise keep the landmarks' line
            offsets.append(y0 + int(np.argmax(fall)) + 0.5 - lower[c])
    return float(np.median(offsets)) if offsets else 0.0


def _lid_skin(grey: np.ndarray, eye: np.ndarray, lash: float) -> tuple[float, float]:
    """Where the upper lid's edge really is and how much plain lid skin lies above it, down the eye's middle.

    Returns (lift, skin): how far (pixels) the edge lies above the landmarks' upper-lid points (small or hooded
    eyes, often behind glasses, get those points on the iris), and the height of skin between the lashes and
    the next dark thing above (a glasses frame, the brow), which is all a closing lid may stretch.
    """
    width = eye[3, 0] - eye[0, 0]
    top, bottom = eye[[1, 2], 1].mean(), eye[[4, 5], 1].mean()
    cx = (eye[0, 0] + eye[3, 0]) / 2
    y0, y1 = int(np.floor(top - 0.6 * width)), int(np.ceil(bottom)) + 1
    x0, x1 = int(cx - 0.25 * width), int(cx + 0.25 * width) + 1
    above = int(np.ceil(top)) - y0  # rows strictly above the landmarks' edge
    if y0 < 0 or x0 < 0 or y1 > grey.shape[0] or x1 > grey.shape[1] or above < 2:
        return 0.0, 0.3 * width
    profile = grey[y0:y1, x0:x1].astype(np.float32).mean(1)
    near = above - int(0.3 * width)  # the edge is looked for this close above the landmarks only
    skin_row = near + int(np.argmax(profile[near:above]))
    dark = profile[skin_row:].min()
    if profile[skin_row] - dark < 20:  # no clear lid against eye (dark skin, deep shadow): trust the landmarks
        return 0.0, 0.3 * width
    threshold = dark + 0.3 * (profile[skin_row] - dark)  # nearer the dark: lid shadow is not yet the edge
    edge = skin_row + int(np.argmax(profile[skin_row:] < threshold))
    upper = np.flatnonzero(profile[:skin_row] < threshold)
    skin = edge - lash - (upper[-1] + 1 if upper.size else 0)
    return float(np.clip(top - (y0 + edge), 0.0, 0.25 * width)), float(np.clip(skin, 2.0, 0.3 * width))


@dataclass(frozen=True)
class _Lid:
    """One upper eyelid. Closing, its edge (the lashes) slides down over the eye, which stays where it is: the lid
    hides it. Above the lashes, the strip of lid skin stretches to fill the gap; nothing above that strip moves,
    so brows and glasses frames keep still."""

    rows: slice
    cols: slice
    ys: np.ndarray  # (h, 1) row coordinates of the box
    top: np.ndarray  # (w,) upper lid edge in each column
    reach: np.ndarray  # (w,) how far the edge travels to meet the lower lid
    lash: float  # thickness of the lash line that travels unchanged
    skin: float  # height of the lid skin above it that stretches

    @classmethod
    def build(cls, eye: np.ndarray, grey: np.ndarray, iod: float) -> "_Lid":
        size = grey.shape[0]
        lash = max(0.025 * iod, 1.5)
        lift, skin = _lid_skin(grey, eye, lash)
        x0, x1 = int(np.floor(eye[0, 0])), int(np.ceil(eye[3, 0])) + 1
        cols = np.arange(x0, x1, dtype=np.float32)
        across = _lens(cols, (eye[0, 0] + eye[3, 0]) / 2, (x1 - x0) / 2)
        top = _curve(cols, eye[[0, 1, 2, 3]]) - lift * across
        bottom = _curve(cols, eye[[0, 5, 4, 3]])
        # The edge stops a pixel past the lower lid, so the lashes meet; nothing moves at the corners.
        reach = np.maximum(bottom - top, 0) + 1.0 * across
        y0 = max(int(np.floor(top.min() - lash - skin)) - 1, 0)
        y1 = min(int(np.ceil(bottom.max())) + 3, size)
        x0c, x1c = max(x0, 0), min(x1, size)
        keep = slice(x0c - x0, x1c - x0)
        return cls(slice(y0, y1), slice(x0c, x1c), np.arange(y0, y1, dtype=np.float32)[:, None], top[keep],
                   reach[keep], lash, skin)

    def shift(self, closure: float) -> np.ndarray:
        """How far up each pixel of the box samples the photo when the lid is `closure` (0..1) closed."""
        travel = closure * self.reach
        edge = self.top + travel
        above = edge - self.ys  # distance above the lid's new edge
        # Lashes: carried down whole. Skin strip: stretched from `skin` to `skin + travel` rows. Above: still.
        stretch = travel * np.clip((self.lash + self.skin + travel - above) / (self.skin + travel), 0.0, 1.0)
        # Below the edge the eye shows as it is, behind a one-pixel soft edge.
        return np.where(above >= self.lash, stretch, travel) * np.clip(above + 0.5, 0.0, 1.0)


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

        # Mouth opening: the lower lip and jaw drop, the upper lip rises a little (LIP_LIFT of the gap). Both
        # follow an almond shape that is widest mid-mouth and closed at the corners; below the lower lip the drop
        # widens to the whole chin, and fades out under it.
        grey = cv2.cvtColor(self.image, cv2.COLOR_RGB2GRAY)
        # A photo with parted lips already shows its own teeth; painting more would double them, and the upper
        # lip stays put so as not to hide the photo's upper teeth.
        self.draw_teeth = face.mouth_opening < 0.05
        upper, lower = _curve(col, lm[[60, 61, 62, 63, 64]]), _curve(col, lm[[60, 67, 66, 65, 64]])
        mx = (lm[60, 0] + lm[64, 0]) / 2
        self.mouth_half = max((lm[64, 0] - lm[60, 0]) / 2, 2.0)
        seam = (upper + lower) / 2
        if not self.draw_teeth:
            seam = np.maximum(seam, lower + _teeth_edge(grey, col, upper, lower, mx, self.mouth_half, iod))
        self.mouth_centre = np.array([mx, np.interp(mx, col, seam)])
        apart = _apart(col, mx, self.mouth_half)
        jaw_half = (lm[12, 0] - lm[4, 0]) / 2
        chin = 1 - _smoothstep(0.45 * jaw_half, 1.05 * jaw_half, np.abs(col - mx))
        # Under the lips' parting the drop grows from the lips' to the chin's over the lower lip; towards the
        # corners, where the lips do not part, over a longer stretch of skin, so the corners bend instead of shearing.
        lip_depth = max(lm[57, 1] - lm[66, 1], 0.05 * self.iod) * (1 + CORNER_RAMP * (1 - apart))
        t = np.clip((ys - seam) / lip_depth, 0, 1)
        below_chin = 1 - _smoothstep(lm[8, 1], lm[8, 1] + 0.55 * iod, ys)
        jaw = np.where(ys >= seam, ((1 - t) * apart + t * chin) * below_chin, 0)
        self.lip_lift = LIP_LIFT if self.draw_teeth else 0.0
        # Lips parted in the photo have less left to open: scale the plan's extra gap so the widest stays natural
        # (a gaping mouth is also what most changes how recognisable the face is).
        self.headroom = float(np.clip(1 - face.mouth_opening / WIDEST, 0.4, 1.0))
        lift = np.where(ys < seam, apart * _smoothstep(lm[33, 1], seam, ys), 0)  # nothing moves above the nose
        # Per pixel of opening: how far up (+) each pixel samples the photo.
        self.open_field = ((1 - self.lip_lift) * jaw - self.lip_lift * lift).astype(np.float32)
        self.seam, self.seam_x = seam, col

        # Lip width: the corners move (spread widens, rounding narrows), the middle of the mouth stays.
        dx, dy = xs - self.mouth_centre[0], ys - self.mouth_centre[1]
        window = np.exp(-(dx / (1.7 * self.mouth_half)) ** 2 - (dy / (1.1 * self.mouth_half)) ** 2)
        self.widen_field = (-dx * window * _lip_sides(dx, self.mouth_half)).astype(np.float32)

        self.lids = [_Lid.build(lm[eye], grey, self.iod) for eye in (EYE_L, EYE_R)]
        self.local = self.base.copy()

    # --- head: rotation about the neck plus a turn/nod with parallax, fading out in the background around it ---
    def _build_head(self, lm: np.ndarray) -> None:
        n = self.size // LOW
        ys, xs = (np.mgrid[0:n, 0:n].astype(np.float32) + 0.5) * LOW - 0.5
        face_w = lm[16, 0] - lm[0, 0]
        brow_y, chin_y = lm[17:27, 1].min(), lm[8, 1]
        face_h = chin_y - brow_y
        cx, cy = lm[27:31, 0].mean(), (brow_y + chin_y) / 2
        r = np.hypot((xs - cx) / (0.7 * face_w), (ys - (cy - 0.2 * face_h)) / (0.95 * face_h))
        weight = self._head_weight(lm, r, xs, ys, chin_y, face_w, face_h)
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

    def _head_weight(self, lm, r, xs, ys, chin_y, face_w, face_h) -> np.ndarray:
        """How much each (low-res) pixel turns with the head: 1 over the face, hair and hat, fading to 0 over
        the background around them and down the neck.

        The head is cut out of the photo once (GrabCut at the head field's resolution, seeded with the face as
        certain and a generous ellipse as likely), so hair moves whole instead of shearing where a fixed ellipse
        would fade out across it. The fade lies in the background, which is usually smooth or out of focus; a
        fixed ellipse keeps the face rigid should the cut fail.
        """
        n = r.shape[0]
        small = cv2.resize(self.image, (n, n), interpolation=cv2.INTER_AREA)
        seeds = np.where(r < 1.2, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        seeds[[0, -1], :] = seeds[:, [0, -1]] = cv2.GC_BGD
        cv2.fillConvexPoly(seeds, cv2.convexHull(((lm + 0.5) / LOW - 0.5).astype(np.int32)), cv2.GC_FGD)
        cv2.setRNGSeed(0)  # GrabCut starts from k-means: the same photo must give the same video
        try:
            cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), seeds, None, np.zeros((1, 65)), np.zeros((1, 65)),
                        3, cv2.GC_INIT_WITH_MASK)
            head = np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD))
        except cv2.error:  # e.g. a flat photo with nothing to tell apart
            head = np.zeros_like(seeds, bool)
        head &= ys < chin_y + 0.1 * face_h  # the neck and clothes are not the head
        outside = cv2.distanceTransform((~head).astype(np.uint8), cv2.DIST_L2, 3) * LOW  # pixels to the head
        around = 1 - _smoothstep(0.0, 0.3 * face_w, outside)
        neck = 1 - _smoothstep(chin_y, chin_y + 0.45 * face_h, ys)
        face = 1 - _smoothstep(0.9, 1.45, r)
        # The frame's sides and bottom (background, shoulders) never move; hair may reach the top.
        edge = np.minimum(np.minimum(xs, self.size - 1 - xs), self.size - 1 - ys)
        return np.maximum(face, around * neck) * _smoothstep(self.size / 12, self.size / 6, edge)

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
        self.cavity = lip * np.array([0.45, 0.28, 0.28], np.float32)  # dark, not black: a lit mouth is not a hole
        self.inner_lip = lip * np.array([0.72, 0.55, 0.55], np.float32)
        self.tongue = lip * np.array([0.75, 0.45, 0.45], np.float32)
        # Teeth take the photo's white balance and light from the skin around them.
        self.teeth = np.clip(0.45 * skin + 0.55 * np.array([240, 236, 228], np.float32), 0, 255)

    def controls(self, open_iod: float, rounded: float, spread: float, blink: float, yaw, pitch, roll) -> Controls:
        return Controls(open_px=open_iod * self.iod * self.headroom, widen=0.10 * spread - 0.16 * rounded, blink=blink,
                        yaw=yaw, pitch=pitch, roll=roll)

    def frame(self, c: Controls) -> np.ndarray:
        # Expression map: source coordinates for each pixel before the head moves.
        roi = self.roi
        self.local[roi + (0,)] = self.base[roi + (0,)] + c.widen * self.widen_field
        self.local[roi + (1,)] = self.base[roi + (1,)] - c.open_px * self.open_field
        if c.blink > 0.01:
            for lid in self.lids:
                self.local[lid.rows, lid.cols, 1] -= lid.shift(c.blink)
        # Head map: invert the forward displacement with one fixed-point step, at low resolution.
        fwd = self._head_forward(c)
        back = cv2.remap(fwd, self.low_grid[..., 0] - fwd[..., 0] / LOW, self.low_grid[..., 1] - fwd[..., 1] / LOW,
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        back = cv2.resize(back, (self.size, self.size), interpolation=cv2.INTER_LINEAR)
        head = self.base[self.moving] - back[self.moving]
        # Compose with the expression map only where the head map can land in its region: elsewhere it is the
        # identity, so a pixel's source is the head map's (a third of the remap work, the same result).
        reach = int(np.ceil(np.abs(fwd).max())) + 2
        (ry, rx), (my, mx) = self.roi, self.moving
        rows = slice(max(ry.start - reach - my.start, 0), max(min(ry.stop + reach, my.stop) - my.start, 0))
        cols = slice(max(rx.start - reach - mx.start, 0), max(min(rx.stop + reach, mx.stop) - mx.start, 0))
        src = head.copy()
        if rows.stop > rows.start and cols.stop > cols.start:
            near = head[rows, cols]
            src[rows, cols] = cv2.remap(self.local, near[..., 0], near[..., 1], cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE)
        out = self.image.copy()
        out[self.moving] = cv2.remap(self.image, src[..., 0], src[..., 1], cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE)
        if c.open_px > 0.5:
            self._paint_mouth(out, c, fwd)
        return out

    def _paint_mouth(self, out: np.ndarray, c: Controls, fwd: np.ndarray) -> None:
        """Fill the gap the lips opened, following the head: cavity, tongue and (if the photo shows none) teeth."""
        mx, half = self.mouth_centre[0], self.mouth_half
        xs = np.linspace(mx - half, mx + half, 24, dtype=np.float32)
        seam = np.interp(xs, self.seam_x, self.seam)
        gap = c.open_px * _apart(xs, mx, half)
        top = np.stack([xs, seam - self.lip_lift * gap], 1)
        bottom = np.stack([xs, seam + (1 - self.lip_lift) * gap], 1)
        poly = np.concatenate([top, bottom[::-1]])
        dx = poly[:, 0] - mx
        poly[:, 0] += c.widen * dx * 0.8 * _lip_sides(dx, half)  # as widen_field moves the lips
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
        bottom_y = _curve(gx[0], poly[n:])
        centre_x = poly[:, 0].mean()
        interior = self._interior(gy - top_y, bottom_y - gy, gx - centre_x, half * (1 + c.widen), c.open_px)
        alpha = mask * min(c.open_px / 2.0, 1.0)
        patch = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = (patch * (1 - alpha) + interior * alpha).clip(0, 255).astype(np.uint8)

    def _interior(self, below_top, above_bottom, dx, half, open_px) -> np.ndarray:
        """Colours inside the open mouth, from each pixel's distance (px) under the upper lip and over the lower
        one and its offset from the mouth's middle."""
        iod = self.iod
        side = np.clip(np.abs(dx) / half, 0, 1)
        # Dark cavity, a little lighter towards the corners (cheeks catch light), with wet inner lips at the rim.
        colour = self.cavity * (0.75 + 0.5 * side ** 2)[..., None]
        rim = np.exp(-np.maximum(np.minimum(below_top, above_bottom), 0) / (0.012 * iod + 0.5))[..., None]
        colour = colour * (1 - 0.7 * rim) + self.inner_lip * 0.7 * rim
        # The tongue's top, lying behind the lower lip once the mouth is open enough to show it.
        show = _smoothstep(0.08 * iod, 0.2 * iod, open_px)
        hump = (dx / (0.5 * half)) ** 2 + (above_bottom / (0.32 * open_px + 1e-3)) ** 2
        tongue = (show * (1 - _smoothstep(0.6, 1.0, hump)))[..., None]
        lit = 0.55 + 0.4 * _smoothstep(1.0, 0.2, hump)  # its top lies further back, in the dark
        colour = colour * (1 - tongue) + self.tongue * lit[..., None] * tongue
        if self.draw_teeth:
            colour = self._upper_teeth(colour, below_top, dx, half, open_px)
        shadow = 0.55 + 0.45 * _smoothstep(0.0, 0.03 * iod, below_top)  # under the upper lip
        return colour * shadow[..., None]

    def _upper_teeth(self, colour, below_top, dx, half, open_px) -> np.ndarray:
        """Upper front teeth hanging from under the upper lip: the arch narrows them towards the corners, thin dark
        lines part them, and each tooth's lower edge is slightly rounded."""
        iod = self.iod
        arch = 1.05 * half
        along = arch * np.arcsin(np.clip(dx / arch, -1, 1))  # distance along the arch: teeth foreshorten sideways
        width = 0.1 * iod
        part = np.abs(along - width * np.round(along / width))  # to the nearest parting line
        length = (np.minimum(0.075 * iod, 0.45 * open_px) * (1 - 0.25 * (dx / half) ** 2)
                  - 0.7 * np.exp(-(part / 1.2) ** 2))
        tooth = ((1 - _smoothstep(length - 0.8, length + 0.4, below_top))
                 * (1 - _smoothstep(0.62, 0.85, np.abs(dx) / half)))[..., None]
        shade = (0.95 - 0.3 * (dx / half) ** 2) * (1 - 0.3 * np.exp(-(part / 0.6) ** 2))
        return colour * (1 - tooth) + self.teeth * shade[..., None] * tooth


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
