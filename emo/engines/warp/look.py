"""The photo's own look, so that what the rig paints (a mouth's inside, closed lids) belongs to it.

Every colour is taken from the photo and only darkened or lightened, never tinted: the mouth's dark comes from the
nostrils (deeper where they are pale, as far as the photo's black point allows), its teeth from the teeth the photo
shows or else as light as the whites of the eyes, its tongue and inner lips from the lips, a closed lid from the
skin above the eye. A black-and-white photo therefore paints grey, a faded sepia scan sepia. Painted areas also get
the photo's softness (measured on its own edges) and its grain.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...face import EYE_L, EYE_R, LIPS_INNER, LIPS_OUTER, Face

EDGE_PROBE = 1.0  # the known blur (px) the photo's edges are measured against (see _softness)
GRAIN_SEED = 7  # the painted grain is a fixed texture: the same photo gets the same video
CAVITY = 0.25  # a mouth's darks lie at most this far from the photo's black point up to its skin
TEETH_RED = 0.7  # what a photo's lips frame counts as teeth when less red (Lab a) than this share of its lips
TEETH_SHADE = 0.9  # teeth inside a mouth are this much darker than in the open
TEETH_CAST = (0.4, 0.8)  # share of the skin's red-green and blue-yellow (Lab a, b) that teeth it does not show take:
# ivory, not pink, in the photo's light (the medians over 6 real photos showing teeth: 0.35-0.84 and 0.6-1.8)


@dataclass(frozen=True)
class PhotoLook:
    skin: np.ndarray  # RGB float32, each of these
    lips: np.ndarray
    dark: np.ndarray  # a mouth's cavity: the nostrils' (or the photo's open mouth's) darks, deepened to CAVITY
    teeth: np.ndarray
    teeth_shown: bool  # the photo shows teeth between its lips
    softness: float  # Gaussian sigma (px) that painted edges need to look as soft as the photo
    grain: np.ndarray  # (H, W) float32 noise at the photo's own strength and softness, to add to painted areas

    @classmethod
    def of(cls, portrait: np.ndarray, face: Face) -> "PhotoLook":
        lm = face.landmarks
        img = portrait.astype(np.float32)
        grey = cv2.cvtColor(portrait, cv2.COLOR_RGB2GRAY).astype(np.float32)
        iod = face.inter_ocular
        lips = _pixels(img, _ring(portrait.shape, lm[LIPS_OUTER], lm[LIPS_INNER]))
        inner = _pixels(img, _polygon(portrait.shape, lm[LIPS_INNER]))
        skin = _pixels(img, _box(portrait.shape, lm[31, 0], lm[35, 0], lm[29, 1], lm[33, 1]))  # the nose's sides
        skin = _median(skin, [200, 160, 140])
        lips_colour = _median(lips, skin * 0.8)
        nostrils = _pixels(img, _box(portrait.shape, lm[31, 0], lm[35, 0], lm[33, 1] - 0.12 * iod, lm[33, 1] + 2))
        dark = _darkest(np.concatenate([nostrils, inner]) if len(inner) else nostrils, skin * 0.35)
        # A pale or bright-lit face's nostrils are barely darker than its skin, yet the inside of its mouth is in
        # deep shadow all the same: as deep as the photo's own range goes (a faded scan's black point keeps it faded).
        black = float(np.percentile(grey, 1))
        deepest = black + CAVITY * (float(luma(skin)) - black)
        dark = dark * min(1.0, deepest / max(float(luma(dark)), 1.0))
        # Teeth are light and, in a colour photo, far less red than the lips (pale lips pressed shut are light too).
        light = inner
        if len(inner):
            light = inner[(luma(inner) > 0.8 * luma(skin)) & less_red_than_lips(inner, lips_colour)]
        teeth_shown = len(inner) > 20 and len(light) > 0.3 * len(inner)
        if teeth_shown:
            teeth = np.percentile(light, 60, axis=0).astype(np.float32)
        else:
            teeth = _unshown_teeth(skin, eye_pixels(img, lm))
        softness = _softness(grey, lm, face.pixel_scale)
        return cls(skin.astype(np.float32), lips_colour.astype(np.float32), dark.astype(np.float32),
                   np.clip(teeth, 0, 255).astype(np.float32), teeth_shown, float(softness),
                   _grain(grey, lm, iod, softness))

    def paint(self, colour: np.ndarray, grain: np.ndarray) -> np.ndarray:
        """Painted colours (h, w, 3) with `grain` (h, w: the photo's, cut out or warped to their place) added."""
        return colour + grain[..., None] * (colour.mean(-1, keepdims=True) / 128.0).clip(0.3, 1.5)


def eye_pixels(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """The pixels (n, 3) inside both eyes' landmark outlines: where the whites of the eyes are looked for."""
    return np.concatenate([_pixels(img, _polygon(img.shape, lm[eye])) for eye in (EYE_L, EYE_R)])


def _unshown_teeth(skin: np.ndarray, whites: np.ndarray) -> np.ndarray:
    """Teeth for a photo that shows none: as light as the whitest of its eyes' whites, and lighter than its skin,
    dimmed by the mouth's shade; coloured by the skin's cast as far as real teeth are (TEETH_CAST: grey in a
    black-and-white photo, sepia in a sepia one). The eyes' own colour is no guide: small eyes are mostly iris and
    lid."""
    skin_lab = to_lab(skin)
    light = np.percentile(to_lab(whites)[:, 0], 90) if len(whites) >= 10 else 0.0
    lightness = TEETH_SHADE * min(max(light, skin_lab[0] + 12), 95)
    return to_rgb([lightness, *(np.array(TEETH_CAST) * skin_lab[1:])])


def less_red_than_lips(rgb: np.ndarray, lips: np.ndarray) -> np.ndarray:
    """Which RGB colours (..., 3) are far less red (Lab a) than the lips, as teeth are; all of them where the lips
    themselves have almost no red (a black-and-white photo), where lightness alone tells teeth."""
    red = to_lab(lips)[1]
    return (to_lab(rgb)[..., 1] < TEETH_RED * red) | (red < 8)


def to_lab(rgb) -> np.ndarray:
    """RGB colours 0..255 (any shape ending in 3) to CIE Lab (L 0..100), same shape."""
    rgb = np.float32(rgb)
    return cv2.cvtColor(rgb.reshape(-1, 1, 3) / 255, cv2.COLOR_RGB2Lab).reshape(rgb.shape)


def to_rgb(lab) -> np.ndarray:
    """CIE Lab colours (any shape ending in 3) to RGB 0..255, same shape."""
    lab = np.float32(lab)
    return np.clip(cv2.cvtColor(lab.reshape(-1, 1, 3), cv2.COLOR_Lab2RGB).reshape(lab.shape), 0, 1) * 255


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _median(pixels: np.ndarray, fallback) -> np.ndarray:
    return np.median(pixels, axis=0).astype(np.float32) if len(pixels) >= 5 else np.asarray(fallback, np.float32)


def _darkest(pixels: np.ndarray, fallback) -> np.ndarray:
    """The mean colour of the darkest tenth of `pixels`."""
    if len(pixels) < 10:
        return np.asarray(fallback, np.float32)
    bright = luma(pixels)
    return pixels[bright <= np.percentile(bright, 10)].mean(0).astype(np.float32)


def _pixels(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return img[mask > 0]


def _polygon(shape, pts: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask


def _ring(shape, outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    return _polygon(shape, outer) & (1 - _polygon(shape, inner))


def _box(shape, x0, x1, y0, y1) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    mask[max(int(y0), 0):max(int(y1), 0), max(int(x0), 0):max(int(x1), 0)] = 1
    return mask


def _softness(grey: np.ndarray, lm: np.ndarray, pixel_scale: float) -> float:
    """The blur (Gaussian sigma, px) the photo's own edges have about the eyes, nose and mouth: an edge blurred by
    s keeps 1 / sqrt(1 + (S / s)^2) of its gradient when blurred by S more, so its gradient before and after a known
    blur tells s (the median over the edges; the pixel grid's own reads as 0.8, and painted edges need that much
    to look no harder than the photo's). Enlarged, soft-focus or compressed photos are soft where their pixel
    count alone says nothing (d01, d07, Collins: 1.2-1.4 px, where 0.6 was assumed). With too few edges to
    measure, what the enlargement alone implies."""
    x0, y0 = np.maximum(lm.min(0).astype(int), 0)
    x1, y1 = lm.max(0).astype(int)
    patch = grey[y0:y1, x0:x1]
    edges = cv2.Canny(patch.astype(np.uint8), 40, 100) > 0 if patch.size else np.zeros((0, 0), bool)
    ratio = np.zeros(0, np.float32)
    if edges.sum() >= 100:
        def gradient(image: np.ndarray) -> np.ndarray:
            return np.hypot(cv2.Sobel(image, cv2.CV_32F, 1, 0), cv2.Sobel(image, cv2.CV_32F, 0, 1))[edges]

        ratio = gradient(patch) / np.maximum(gradient(cv2.GaussianBlur(patch, (0, 0), EDGE_PROBE)), 1e-3)
        ratio = ratio[ratio > 1.01]
    if ratio.size < 50:
        return max(0.6, 0.5 * pixel_scale)
    return float(np.clip(np.median(EDGE_PROBE / np.sqrt(ratio ** 2 - 1)), 0.6, 3.0))


def _grain(grey: np.ndarray, lm: np.ndarray, iod: float, softness: float) -> np.ndarray:
    """A fixed noise texture as strong as the photo's own fine detail on the cheeks, and as soft.

    The cheeks' finest detail (what a 1-pixel blur removes) is mostly grain (sensor noise, film, JPEG, pores); its
    spread, with the extremes left out, sets the strength.
    """
    x0, x1 = int(lm[1, 0] + 0.1 * iod), int(lm[31, 0] - 0.1 * iod)
    y0, y1 = int(lm[29, 1]), int(lm[33, 1])
    patch = grey[max(y0, 0):max(y1, 1), max(x0, 0):max(x1, 1)]
    strength = 0.0
    if patch.size >= 25:
        residual = patch - cv2.GaussianBlur(patch, (0, 0), 1.0)
        low, high = np.percentile(residual, [5, 95])
        strength = float(residual[(residual > low) & (residual < high)].std() * 1.6)
    noise = np.random.default_rng(GRAIN_SEED).standard_normal(grey.shape).astype(np.float32)
    if softness > 0.7:
        noise = cv2.GaussianBlur(noise, (0, 0), softness * 0.6)
        noise /= noise.std() + 1e-6
    return noise * min(strength, 12.0)
