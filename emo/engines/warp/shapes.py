"""Small shape functions the rig's fields are built from (all vectorised over numpy arrays)."""
from __future__ import annotations

import numpy as np


def smoothstep(edge0, edge1, x):
    """0 below edge0, 1 above edge1, a smooth S between (edge0 > edge1 gives the mirror image)."""
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def edge_fade(xs: np.ndarray, ys: np.ndarray, size: int, band: float) -> np.ndarray:
    """1 over the frame, falling to 0 within `band` (a share of `size`) of its edges: motion never reaches them."""
    edge = np.minimum(np.minimum(xs, size - 1 - xs), np.minimum(ys, size - 1 - ys))
    return smoothstep(band * size, size / 6, edge)


def lens(x: np.ndarray, centre: float, half_width: float) -> np.ndarray:
    """1 at `centre`, falling to 0 at +-half_width along a half ellipse."""
    return np.sqrt(np.clip(1 - ((x - centre) / half_width) ** 2, 0, 1))


def apart(x: np.ndarray, centre: float, half_width: float, rounded: float = 0.0) -> np.ndarray:
    """How far parted lips are at x, 0..1: full mid-mouth, closing to a point at the corners (+-half_width); rounded
    lips (`rounded` 1, an "oo") part in an oval, the corners pursed shut."""
    return np.clip(1 - ((x - centre) / (half_width * (1 - 0.25 * rounded))) ** 2, 0, 1) ** (0.8 - 0.2 * rounded)


def curve(xs: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """y of the polyline through `pts` (sorted by x) at each x, held flat beyond its ends."""
    order = np.argsort(pts[:, 0])
    return np.interp(xs, pts[order, 0], pts[order, 1])


def arc(xs: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """y of a smooth arc (a parabola, tilted to pass through both end points) near `pts` at each x: a lid's edge
    without the corners a polyline through its few landmarks has."""
    order = np.argsort(pts[:, 0])
    x, y = pts[order, 0], pts[order, 1]
    if x[-1] - x[0] < 1e-3:
        return np.full(np.shape(xs), y.mean())
    fit = np.polyfit(x, y, 2)
    miss = y[[0, -1]] - np.polyval(fit, x[[0, -1]])  # the fit's misses at the ends, shared out linearly
    t = np.clip((xs - x[0]) / (x[-1] - x[0]), 0, 1)
    return np.polyval(fit, np.clip(xs, x[0], x[-1])) + miss[0] * (1 - t) + miss[1] * t


def sample(field: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear values of a (h, w, 2) field at (x, y) points given in the field's own pixels."""
    h, w = field.shape[:2]
    x = np.clip(pts[:, 0], 0, w - 1.001)
    y = np.clip(pts[:, 1], 0, h - 1.001)
    x0, y0 = x.astype(int), y.astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    return ((field[y0, x0] * (1 - fx) + field[y0, x0 + 1] * fx) * (1 - fy)
            + (field[y0 + 1, x0] * (1 - fx) + field[y0 + 1, x0 + 1] * fx) * fy)
