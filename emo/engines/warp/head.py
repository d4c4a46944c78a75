"""The head as a layer over a still scene: only the head, hair and neck move; the background never does.

The head (hair, hat and ears with it) is cut out of the photo once: GrabCut at the motion field's resolution,
seeded with the face as certain and a generous ellipse as likely. Its motion is a turn, nod and tilt with parallax
that fades down the neck, computed at 1/LOW resolution (it is smooth). Each frame the head layer is warped and laid
over a still plate: the photo with the head painted out (OpenCV's Telea inpainting), which shows only in the thin
band the moving head uncovers. Door frames, windows and the frame's edges therefore stay exactly as they are.
"""
from __future__ import annotations

import cv2
import numpy as np

from ...face import BROWS, CHIN, EDGE_BAND, FACE_IN_FRAME, JAW_LEFT, JAW_RIGHT, NOSE_TIP
from .shapes import edge_fade, smoothstep

LOW = 4  # the motion field is computed at 1/LOW resolution and upsampled
MATTE_SOFT = 0.004  # the matte's edge, Gaussian sigma as a share of the frame
# Bilinear resampling at the moving head's fractional offsets blurs what it moves (fine skin texture, stubble,
# wrinkles lost 15-45 %: the "waxy" look); the layer is sharpened once by about as much (cubic resampling would
# keep it too, at 60 % more per frame).
PRESHARPEN, PRESHARPEN_SIGMA = 0.6, 0.7  # unsharp-mask amount, and its blur in pixels
PLATE_RADIUS = 0.012  # Telea inpainting radius, as a share of the frame


class HeadLayer:
    def __init__(self, image: np.ndarray, lm: np.ndarray, iod: float, others: tuple[np.ndarray, ...] = ()):
        """`others`: landmarks of other faces in the image (a group photo), which stay out of this head."""
        size = self.size = image.shape[0]
        n = size // LOW
        ys, xs = (np.mgrid[0:n, 0:n].astype(np.float32) + 0.5) * LOW - 0.5
        face_w = lm[JAW_RIGHT, 0] - lm[JAW_LEFT, 0]
        brow_y, chin_y = lm[BROWS, 1].min(), lm[CHIN, 1]
        face_h = chin_y - brow_y
        cx, cy = lm[27:31, 0].mean(), (brow_y + chin_y) / 2
        r = np.hypot((xs - cx) / (0.7 * face_w), (ys - (cy - 0.2 * face_h)) / (0.95 * face_h))
        elsewhere = np.zeros((n, n), np.uint8)
        for points in others:
            cv2.fillConvexPoly(elsewhere, cv2.convexHull(((points + 0.5) / LOW - 0.5).astype(np.int32)), 1)
        elsewhere = cv2.dilate(elsewhere, np.ones((3, 3), np.uint8)).astype(bool)
        head = _cut_out(image, lm, r, n, elsewhere)
        weight = self._weight(head, r, xs, ys, chin_y, face_w, face_h)
        pivot = np.array([cx, chin_y + 0.35 * face_h], np.float32)
        rf = np.hypot((xs - cx) / (0.55 * face_w), (ys - cy) / (0.7 * face_h))
        nose = np.exp(-((xs - lm[NOSE_TIP, 0]) ** 2 + (ys - lm[NOSE_TIP, 1]) ** 2) / (2 * (0.22 * iod) ** 2))
        depth = (np.clip(1 - rf ** 2, 0, 1) + 0.35 * nose) * 0.5 * face_w
        # A close-up moves as much on screen as a framed face, not more: the camera is nearer, not the head livelier.
        closeness = min(1.0, FACE_IN_FRAME * size / max(face_w, 1.0))
        self.terms = closeness * np.stack([weight * (xs - pivot[0]), weight * (ys - pivot[1]),
                                           weight * depth])
        self.low_grid = np.dstack([xs, ys]) / LOW  # low-res pixel coordinates of each low-res sample
        self.low_coords = np.dstack([xs, ys])  # full-size coordinates of each low-res sample
        # The layer: the head and the neck under it (the body below stays in the plate), with a soft edge.
        person = (head | (r < 1.0)) & (ys < chin_y + 0.6 * face_h) & ~elsewhere
        matte = cv2.resize(person.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
        self.matte = cv2.GaussianBlur(matte, (0, 0), MATTE_SOFT * size)
        moves = cv2.resize(weight, (size, size)) > 0.02
        rows, cols = np.nonzero(moves)
        self.moving = (slice(max(rows.min() - 2 * LOW, 0), min(rows.max() + 2 * LOW, size)),
                       slice(max(cols.min() - 2 * LOW, 0), min(cols.max() + 2 * LOW, size)))
        # Painted out only where the head can move away: the still neck and collar under the matte stay the photo.
        self.plate = _plate(image, (self.matte > 0.02) & moves)
        # The photo with the matte as its alpha, premultiplied (so the warp blends the edge's colours as the matte
        # weighs them, and the composite needs one product, not two): one 4-channel remap moves both, and OpenCV's
        # 4-channel remap is faster than its 3-channel one. Where the lids are painted the matte is opaque.
        alpha = cv2.merge([np.round(self.matte * 255).astype(np.uint8)] * 4)
        self.still_layer = cv2.multiply(cv2.cvtColor(image, cv2.COLOR_RGB2RGBA), alpha, scale=1 / 255)
        # The layer the moving head is resampled from: sharpened as much as it moves (PRESHARPEN; what barely moves
        # is barely resampled). A head at the photo's very pose shows the photo itself (still_layer).
        amount = PRESHARPEN * cv2.resize(weight, (size, size), interpolation=cv2.INTER_LINEAR)[..., None]
        soft = cv2.GaussianBlur(image, (0, 0), PRESHARPEN_SIGMA).astype(np.float32)
        sharp = np.clip(image + amount * (image - soft), 0, 255).astype(np.uint8)
        self.layer = cv2.multiply(cv2.cvtColor(sharp, cv2.COLOR_RGB2RGBA), alpha, scale=1 / 255)

    def source(self, reach: float) -> np.ndarray:
        """The layer to resample for a head whose pixels move up to `reach` pixels: the photo itself at its own
        pose, the sharpened layer once it moves half a pixel (resampling blurs it from there), blended between."""
        share = min(reach / 0.5, 1.0)
        if share >= 1.0:
            return self.layer
        if share <= 0.0:
            return self.still_layer
        return cv2.addWeighted(self.layer, share, self.still_layer, 1.0 - share, 0.0)

    def _weight(self, head, r, xs, ys, chin_y, face_w, face_h) -> np.ndarray:
        """How much each (low-res) pixel turns with the head: 1 over the face, hair and hat, fading to 0 down the
        neck, towards the frame's borders, and outside the head over the background (hidden there by the plate)."""
        outside = cv2.distanceTransform((~head).astype(np.uint8), cv2.DIST_L2, 3) * LOW  # pixels to the head
        around = 1 - smoothstep(0.0, 0.3 * face_w, outside)
        neck = 1 - smoothstep(chin_y, chin_y + 0.45 * face_h, ys)
        face = 1 - smoothstep(0.9, 1.45, r)
        return np.maximum(face, around * neck) * edge_fade(xs, ys, self.size, EDGE_BAND)

    def forward(self, yaw: float, pitch: float, roll: float) -> np.ndarray:
        """Forward displacement (low-res, (n, n, 2)) of each source point."""
        ax, ay, az = self.terms
        cos, sin = np.cos(roll) - 1, np.sin(roll)
        fx = cos * ax - sin * ay + np.sin(yaw) * az
        fy = sin * ax + cos * ay + np.sin(pitch) * az
        return np.dstack([fx, fy]).astype(np.float32)

    def source_map(self, fwd: np.ndarray, region: tuple[slice, slice]) -> np.ndarray:
        """Map of where each pixel of `region` took its content from: the forward field inverted with one
        fixed-point step at low resolution, then upsampled (coordinates are linear: they upsample exactly, but for
        the frame's outermost pixels, which never move)."""
        back = cv2.remap(fwd, self.low_grid - fwd / LOW, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if self.size % LOW:  # (a group photo's square) the low-res grid does not tile the frame: upsampled whole
            return cv2.resize(self.low_coords - back, (self.size, self.size), interpolation=cv2.INTER_LINEAR)[region]
        # Only the region is upsampled: its low-res samples and one more on each side (all that its pixels'
        # interpolation reads), scaled by exactly LOW, give the very values a whole-frame upsampling would.
        (r0, r1), (c0, c1) = ((span.start // LOW - 1, -(-span.stop // LOW) + 1) for span in region)
        r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, len(fwd)), min(c1, len(fwd))
        crop = self.low_coords[r0:r1, c0:c1] - back[r0:r1, c0:c1]
        full = cv2.resize(crop, ((c1 - c0) * LOW, (r1 - r0) * LOW), interpolation=cv2.INTER_LINEAR)
        return full[region[0].start - r0 * LOW:region[0].stop - r0 * LOW,
                    region[1].start - c0 * LOW:region[1].stop - c0 * LOW]

    def composite(self, layer: np.ndarray, region: tuple[slice, slice]) -> np.ndarray:
        """The warped head layer (premultiplied RGBA pixels of `region`, the matte moved with it) over the still
        plate."""
        uncovered = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(layer, 3)), cv2.COLOR_GRAY2RGB)
        # In 8 bits throughout (the product rounded: at most 1 level off a float blend), twice as fast as float.
        return cv2.add(cv2.cvtColor(layer, cv2.COLOR_RGBA2RGB),
                       cv2.multiply(self.plate[region], uncovered, scale=1 / 255))


def _cut_out(image: np.ndarray, lm: np.ndarray, r: np.ndarray, n: int, elsewhere: np.ndarray) -> np.ndarray:
    """The head (with hair and hat) at n x n: GrabCut seeded with the face's hull as certain, r < 1.2 as likely and
    other faces (`elsewhere`) as certainly not; an ellipse around the face should the cut fail."""
    small = cv2.resize(image, (n, n), interpolation=cv2.INTER_AREA)
    seeds = np.where(r < 1.2, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    seeds[[0, -1], :] = seeds[:, [0, -1]] = cv2.GC_BGD
    seeds[elsewhere] = cv2.GC_BGD
    cv2.fillConvexPoly(seeds, cv2.convexHull(((lm + 0.5) / LOW - 0.5).astype(np.int32)), cv2.GC_FGD)
    cv2.setRNGSeed(0)  # GrabCut starts from k-means: the same photo must give the same video
    try:
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), seeds, None, np.zeros((1, 65)), np.zeros((1, 65)), 3,
                    cv2.GC_INIT_WITH_MASK)
        head = np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD))
    except cv2.error:  # e.g. a flat photo with nothing to tell apart
        head = np.zeros_like(seeds, bool)
    return (head | (r < 1.0)) & ~elsewhere


def _plate(image: np.ndarray, person: np.ndarray) -> np.ndarray:
    """The photo with the person painted out, at half size for speed (only a thin band of it ever shows)."""
    half = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(person.astype(np.uint8), (half.shape[1], half.shape[0]), interpolation=cv2.INTER_NEAREST)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(half, mask, max(2.0, PLATE_RADIUS * image.shape[0] / 2), cv2.INPAINT_TELEA)
    filled = cv2.resize(filled, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.where(person[..., None], filled, image)
