"""The mouth: fields that open, close and widen it, and a painter for what opening shows, made from the photo.

Opening drops the jaw (the lower lip, the chin) and lifts the upper lip a little, along an almond that is widest
mid-mouth and shut at the corners; rounded lips (an "oo") part in an oval instead, the upper lip arched, the corners
pursed. Teeth belong to the skull: when the photo shows its upper teeth the jaw opens below their edge, found in the
photo column by column, so they stay whole. A photo whose mouth is open (a dark cavity between its lips, not a
toothy smile) rests closed, and opens from there: shutting, the jaw rises first, until the lower lip meets the
upper teeth (which stay, with the skull), then the lower lip rises over them and the upper lip comes down a little,
until the lips meet in a soft dark line. Rounding draws the corners in and spreading pulls them out; the middle of the
mouth stays, so teeth the photo shows are covered or uncovered at the sides instead of squeezed.

What the parted lips show, where the photo has nothing to show, is a real mouth's inside (its tongue and the dark
behind: assets/, from a public-domain photo, whose own teeth, seen from one side in shade, give way to even drawn
rows) fitted to the gap (read off each frame's warp, where it tears the photo open) and made the photo's own: its
darks as dark as the photo's nostrils (deeper on a pale face, down to the photo's black point), its teeth as bright
as the photo's teeth or the whites of its eyes (the lower ones in shadow, showing over the lower lip mid-mouth on
the widest vowels only), its tongue lit as the photo's lips are, a shade darker, its colour turned to the photo's
lips' hue and saturation, no more colourful than the skin (a black-and-white photo gets a grey mouth, a sepia one a
sepia mouth), then softened to the photo's sharpness and given its grain. The upper teeth and the lower teeth keep
their size as the mouth opens and closes; the dark between them takes up the difference. A photo that shows its own
upper teeth keeps them, and only the inside below them is added.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d, minimum_filter1d

from ...face import CHIN, EDGE_BAND, LIPS_INNER, LIPS_OUTER
from ...motion import MAX_OPEN
from .head import LOW
from .look import PhotoLook, less_red_than_lips, luma, to_lab, to_rgb
from .shapes import apart, arc, curve, sample, smoothstep

LIP_LIFT = 0.2  # share of the mouth's opening made by the upper lip rising; the jaw drops the rest
ROUND_LIFT = 0.35  # ... when the lips are rounded (an "oo"): the upper lip arches up too
ROUNDINGS = (0.0, 0.5, 1.0)  # how rounded the opening's precomputed shapes are (see Mouth.open)
CLOSE_LIFT = 0.1  # share of an open photo's opening its upper lip closes, over its teeth; the jaw rises the rest
WIDEST = 0.36  # inner-lip gap of a wide sung "ah", in inter-ocular distances, photo's own gap included
CORNER_RAMP = 3.0  # how much longer the jaw's drop takes to build up under the mouth corners than mid-mouth
WIDEN_STILL = 0.5  # share of the mouth's half-width, about its middle, that rounding and spreading leave in place
OPEN_PHOTO = 0.06  # inner-lip gap (inter-ocular) from which a photo's mouth counts as open
DARK_INSIDE = 0.8  # ... if what its lips frame is darker than this share of its lips: a cavity, not teeth
FLESH_SHADE = 0.85  # the inside of a mouth is in shade: the donor's lips' lightness maps to this share of the photo's
# lips' (its tongue, lit as the donor's is against its lips: mapped between the photo's darks and teeth alone, it was
# a dark, dull hole on every photo, a "flat maroon fill"; a red tongue and floor, darker at the back, read as a mouth)
LOWER_SHOWN = 0.6  # how much of the lower teeth shows over the lower lip, mid-mouth, on the widest vowels ...
LOWER_FROM = 0.8  # ... from how open (a share of the donor's wide-open height): less open, the lower lip covers them
LOWER_ACROSS = 0.6  # ... and how far out from mid-mouth (a share of its half-width) any shows (their tips alone, a
# thin pale line all along the lower lip, read to viewers as a seam: they preferred no lower teeth to that)
LOWER_SHADE = 0.15  # how much less of the teeth's colour over the dark behind them the lower teeth take
OPENING_DARK = 0.6  # what an open photo's lips frame is darker than this share of the lips (its cavity) ...
TEETH_LIGHT = 1.2  # ... or lighter than this share and less red than the lips (its teeth)
FIRST_FALL = 0.5  # a smile's upper teeth end at the first fall to dark this clear, against the clearest
TEETH_SEARCH = 0.6  # an open photo's upper teeth end in this top share of its opening (lower, the lower teeth's
# fall to the lip would be taken for theirs); longer ones are cut there, and the jaw rises over what lies below
SEAM = 0.015  # half the thickness (inter-ocular) of the dark line where closed lips meet
SEAL_DARK = 0.6  # how dark that line is where an open photo's lips shut, as a share of the mouth's dark
ASSETS = Path(__file__).parent / "assets"


def lip_sides(dx, half: float):
    """How much of a lip-width change reaches a point `dx` from the mouth's middle: none over the middle, all by the
    corners."""
    return smoothstep(WIDEN_STILL * half, half, np.abs(dx))


@dataclass(frozen=True)
class Interior:
    """The inside of an open mouth, rectified (across: the inner lips' width; down: upper to lower inner lip) and
    recoloured for one photo."""

    texture: np.ndarray  # (h, w, 3) float32 RGB
    upper_teeth: float  # fraction of the height the upper teeth take at the top ...
    lower_teeth: float  # ... and the lower teeth at the bottom
    aspect: float  # its height over its width, as it was in its photo (a wide-open mouth)

    @classmethod
    def for_look(cls, look: PhotoLook) -> "Interior":
        rgb, meta = _donor()
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
        teeth_lab = to_lab(look.teeth)
        # Lightness: its darks to the photo's darkest (deeper still), its lips' to the photo's lips' in shade, its
        # teeth to the photo's teeth; in between as in the donor.
        lips_lab = to_lab(look.lips)
        dark_d, teeth_d = np.percentile(lab[..., 0], [5, 97])
        dark_t, teeth_t = 0.8 * to_lab(look.dark)[0], teeth_lab[0]
        lips_t = float(np.clip(FLESH_SHADE * lips_lab[0], min(dark_t, teeth_t), max(dark_t, teeth_t)))
        lab[..., 0] = np.interp(lab[..., 0], [dark_d, meta["lips_lab"][0], teeth_d], [dark_t, lips_t, teeth_t])
        # Colour: flesh (tongue, gums, the inside of the lips) takes the photo's lips' colour, as saturated as the
        # donor's flesh is against the donor's lips, no more than the lips, and no more than the skin (lipstick, or
        # lips reddened by a warm light, stay outside: a tongue that colourful glowed); teeth, with little colour,
        # take the photo's teeth's.
        lips_ab = lips_lab[1:] * min(1.0, float(np.hypot(*to_lab(look.skin)[1:]) / max(np.hypot(*lips_lab[1:]), 1e-3)))
        lips_d = np.asarray(meta["lips_lab"][1:], np.float32)
        flesh = np.clip(np.hypot(lab[..., 1], lab[..., 2]) / max(float(np.hypot(*lips_d)), 1e-3), 0, 1)[..., None]
        ab = flesh * lips_ab + (1 - flesh) * teeth_lab[1:]
        lab[..., 1:] = ab
        # The teeth: even rows drawn in the photo's teeth colour, the lower ones in shadow (the donor's, seen from
        # one side in shade, read as broken, discoloured teeth), the donor's dark between and past them.
        h, w = lab.shape[:2]
        upper = int(round(meta["upper_teeth_end"] * h))
        lower = int(round(meta["lower_teeth_start"] * h))

        def draw(rows: slice, behind: np.ndarray, light: np.ndarray, cover: np.ndarray, shade: float) -> None:
            # (shaded towards the mouth's dark and its colour: teeth in shadow take the mouth's dim red light)
            lab[rows] = behind + (cover * light * shade)[..., None] * (teeth_lab - behind)

        # Behind them, the dark next to the band (a few rows' median: a tooth's tip standing past the band's edge
        # showed through the gap between the front teeth as a pale stripe).
        draw(slice(0, upper), np.median(lab[upper:upper + 4], axis=0), *_teeth_row(upper, w, UPPER_TEETH), 1.0)
        light, cover = _teeth_row(h - lower, w, LOWER_TEETH)
        draw(slice(lower, h), np.median(lab[lower - 4:lower], axis=0), light[::-1], cover[::-1],  # (edges up)
             1 - LOWER_SHADE)
        texture = to_rgb(lab)
        return cls(texture.astype(np.float32), meta["upper_teeth_end"], 1 - meta["lower_teeth_start"],
                   meta["height_over_width"])


@dataclass(frozen=True)
class TeethRow:
    """A row of teeth from the middle out: where each ends (a share of the inner lips' half-width, narrowing as the
    row turns away), how far each reaches from the gum (a share of the row's height), and how much shorter each is
    at its sides than mid-tooth (the notches between their edges)."""

    edges: tuple[float, ...]
    lengths: tuple[float, ...]
    corners: float


UPPER_TEETH = TeethRow((0.0, 0.2, 0.35, 0.48, 0.59, 0.69), (1.0, 0.85, 0.9, 0.72, 0.6), 0.5)
# (shallow notches: the lower lip leaves little more than their upper part showing; notched as deep, a dashed line)
LOWER_TEETH = TeethRow((0.0, 0.13, 0.26, 0.38, 0.5, 0.6, 0.68), (1.0, 1.0, 0.98, 0.95, 0.9, 0.85), 0.1)


def _teeth_row(h: int, w: int, row: TeethRow) -> tuple[np.ndarray, np.ndarray]:
    """A row of teeth, `h` rows from the gum to their edge, across `w` columns of the mouth: each
    tooth's lightness (a share of the teeth's: shaded at its sides, in the gaps, towards the corners and under the
    lip) and where it covers what is behind (its edge rounded at the corners, anti-aliased)."""
    across = np.abs(np.linspace(-1.0, 1.0, w, dtype=np.float32))
    edges, lengths = np.array(row.edges), np.array(row.lengths)
    k = np.clip(np.searchsorted(edges, across, side="right") - 1, 0, len(lengths) - 1)
    inside = np.clip((across - edges[k]) / (edges[k + 1] - edges[k]), 0, 1)
    reach = lengths[k] * (1 - row.corners * (2 * inside - 1) ** 6) * h  # rows down to the edge, its corners rounded
    down = np.arange(h, dtype=np.float32)[:, None] + 0.5
    cover = np.clip(reach[None] - down + 0.5, 0, 1) * (across < edges[-1])[None]
    gaps = 1 - 0.2 * np.exp(-0.5 * (np.minimum(inside, 1 - inside) / 0.05) ** 2)
    light = (gaps * (0.94 + 0.06 * np.sin(np.pi * inside)) * (1 - 0.6 * smoothstep(0.2, 0.72, across)))[None]
    light = light * (0.8 + 0.2 * smoothstep(0.0, 0.4 * h, down))
    return light.astype(np.float32), cover.astype(np.float32)


@lru_cache(maxsize=1)
def _donor() -> tuple[np.ndarray, dict]:
    """The committed mouth interior (float32 RGB 0..1) and its description (see scripts/make_mouth_donor.py)."""
    bgr = cv2.imread(str(ASSETS / "mouth_interior.png"), cv2.IMREAD_COLOR)
    meta = json.loads((ASSETS / "mouth_interior.json").read_text())
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255, meta


@dataclass(frozen=True)
class LipEdge:
    """Where what an open photo's closing raises meets its upper teeth (their edge while the jaw rises, then the
    lower lip's top as it rises over them): over the rows of the rig's region `rows`, the expression map's y had each
    pixel gone the other way (raised for teeth, teeth for raised), and how much of its colour that way gives, its
    share across the edge (0 off it). A row goes one way or the other, a stair-step along the lip; the frame shares
    the edge's pixels between the two."""

    rows: slice
    other_y: np.ndarray
    share: np.ndarray


class Mouth:
    """Fields over the rig's region of interest (`xs`, `ys`: its pixel coordinates; `still`: how much of their
    motion each pixel may take, 0 at the frame's edges) and the interior painter."""

    def __init__(self, image: np.ndarray, lm: np.ndarray, iod: float, look: PhotoLook, xs: np.ndarray,
                 ys: np.ndarray, still: np.ndarray):
        self.iod, self.look = iod, look
        self.origin = (float(xs[0, 0]), float(ys[0, 0]))  # the region of interest's top-left pixel
        self.interior = Interior.for_look(look)
        col = xs[0]
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        upper, lower = curve(col, lm[[60, 61, 62, 63, 64]]), curve(col, lm[[60, 67, 66, 65, 64]])
        mx = (lm[60, 0] + lm[64, 0]) / 2
        self.half = half = max((lm[64, 0] - lm[60, 0]) / 2, 2.0)
        gap = np.maximum(lower - upper, 0)
        photo_gap = float(np.interp(mx, col, gap))
        inside = _inside_luma(grey, lm)
        lips_luma = float(np.dot(look.lips, [0.299, 0.587, 0.114]))
        # An open mouth (a cavity or tongue between the lips) rests closed; a smile showing its teeth keeps it.
        self.rests_closed = photo_gap > OPEN_PHOTO * iod and inside < DARK_INSIDE * lips_luma
        self.photo_gap = photo_gap if self.rests_closed else 0.0
        self.shut_line = np.zeros((0, 3), np.float32)
        parted = photo_gap > 0.05 * iod
        self.draw_teeth = not parted  # a photo with parted lips shows its own teeth (or their absence)
        seam = (upper + lower) / 2
        if parted and not self.rests_closed:
            seam = np.maximum(seam, _teeth_edge(grey, col, seam, lower + 0.03 * iod, mx, half, first=True))
        self.centre = np.array([mx, np.interp(mx, col, seam)])
        outline_x = np.linspace(mx - half, mx + half, 24, dtype=np.float32)  # where the opening's outline is drawn
        self.outline = (outline_x, np.interp(outline_x, col, seam))
        shape = apart(col, mx, half)
        jaw_half = (lm[12, 0] - lm[4, 0]) / 2
        chin = 1 - smoothstep(0.45 * jaw_half, 1.05 * jaw_half, np.abs(col - mx))
        # Under the chin the jaw's motion fades out, before the frame's bottom border at the latest (that stays).
        fade_end = max(min(lm[CHIN, 1] + 0.55 * iod, image.shape[0] * (1 - EDGE_BAND)), lm[CHIN, 1] + 0.15 * iod)
        below_chin = 1 - smoothstep(lm[CHIN, 1], fade_end, ys)
        lip_depth = max(lm[57, 1] - lm[66, 1], 0.05 * iod)
        # The upper lip rises only off teeth it does not show: those the photo shows stay with the skull.
        lip_lift, round_lift = (LIP_LIFT, ROUND_LIFT) if self.draw_teeth else (0.0, 0.0)

        # The plan's opening is scaled: a parted photo's mouth has this much less room left (the widest stays
        # natural); a photo resting closed opens on its loudest notes as wide as it is open (the photo itself,
        # its own teeth and all, rather than a mouth that never opens as far as the one in the picture).
        self.headroom = (max(1.0, photo_gap / (MAX_OPEN * iod)) if self.rests_closed
                         else float(np.clip(1 - photo_gap / (WIDEST * iod), 0.4, 1.0)))
        self.widest_px = max(self.gaps(MAX_OPEN)[0], 1.0)

        def opening(shape: np.ndarray, lip_lift: float) -> tuple[np.ndarray, np.ndarray]:
            # Per pixel of gap: how far up (+) each pixel samples the photo. Under the parting the drop grows from
            # the lips' to the chin's over the lower lip; towards the corners over a longer stretch of skin, so the
            # corners bend instead of shearing. Above, the upper lip rises (never anything above the nose). Also
            # what the jaw's part becomes at the widest opening (see _laid_on_lip), less what it is.
            t = np.clip((ys - seam) / (lip_depth * (1 + CORNER_RAMP * (1 - shape))), 0, 1)
            jaw = np.where(ys >= seam, ((1 - t) * shape + t * chin) * below_chin, 0)
            lift = np.where(ys < seam, shape * smoothstep(lm[33, 1], seam, ys), 0)
            drop = ((1 - lip_lift) * jaw * still).astype(np.float32)
            bend = _laid_on_lip(drop, ys[:, 0], seam, self.widest_px) - drop
            return drop - (lip_lift * lift * still).astype(np.float32), bend

        # Rounded lips ("oo") part in an oval, narrower as they round: the opening at each of ROUNDINGS, blended
        # between the two nearest (blending the full width's opening with the oval's left the oval a thin tail of
        # the other out to each corner, a dark spike).
        self.open_fields, self.open_bends = zip(*(
            opening(apart(col, mx, half, rounded=r), lip_lift + r * (round_lift - lip_lift)) for r in ROUNDINGS))

        # Closing (open photos only), in two parts, each a field of how far up (+) each pixel samples the photo when
        # done. First the jaw: what is under the upper teeth (the dark, the lower teeth, the lower lip) rises until
        # the lower lip meets the teeth's edge; the upper teeth stay with the skull (closing the lips together ate
        # them from below first and left their top edge floating as a white line mid-mouth). Then the lips: the
        # upper lip comes down CLOSE_LIFT of the opening and the lower lip rises the rest, over the teeth. Each
        # moves column by column as far as the gap is there (nothing moves at the corners, where it is nil); below,
        # the rise grows to the chin's as a whole over the lower lip, as in opening; above, it fades out before the
        # nose.
        if self.rests_closed:
            # The open mouth reaches the lips' outer corners (its inner landmarks stop short of them), along arcs:
            # straight lines from the inner landmarks to the corners run inside the lips' curved inner edges, and
            # what lay beyond them stayed open at the corners.
            upper = arc(col, lm[[48, 61, 62, 63, 54]])
            lower = arc(col, lm[[48, 67, 66, 65, 54]])
            # ... and wherever else the photo shows the opening (its dark, its teeth): the inner-lip landmarks often
            # lie on the teeth or short of the corners, and what they missed stayed as dark wedges and teeth at the
            # shut lips' seam.
            top, bottom = _opening_rows(image, lm, col, look)
            upper, lower = np.fmin(upper, top), np.fmax(lower, bottom)
            # The opening's smooth envelope along the mouth: a column's jump (a tooth's gap, a glint) would cut the
            # lips into strips, and a plain smoothing (a median) left the corners' last stretch open, a dark wedge.
            span = max(int(0.15 * half) | 1, 3)

            def envelope(rows: np.ndarray, extreme) -> np.ndarray:
                return gaussian_filter1d(extreme(rows, span, mode="nearest"), span / 4, mode="nearest")

            upper, lower = envelope(upper, minimum_filter1d), envelope(lower, maximum_filter1d)
            meet = upper + CLOSE_LIFT * (lower - upper)
            # Where the upper teeth end; with none, the search gives the opening's top, raised to where the lips meet.
            teeth = _teeth_edge(grey, col, upper, upper + TEETH_SEARCH * (lower - upper), mx, half)
            edge = np.clip(gaussian_filter1d(teeth, span / 4, mode="nearest"), meet, np.maximum(lower, meet))
            m = int(np.argmin(np.abs(col - mx)))
            depth = lip_depth * (1 + CORNER_RAMP * (1 - shape))

            # (the chin rises as much as the landmarks' gap shuts, which the opening's envelope mid-mouth outruns)
            chin_share = photo_gap / max(lower[m] - upper[m], 1e-3)
            # Under the chin the rise fades out from where the shut chin comes to rest, not from where it was: the
            # jaw rises whole and the neck under it stretches, rather than what lies under the chin (a collar, a
            # microphone) being lifted up into the chin's old place.
            settled = 1 - smoothstep(lm[CHIN, 1] - (1 - CLOSE_LIFT) * photo_gap, fade_end, ys)

            def rise(start: np.ndarray, amount: np.ndarray) -> np.ndarray:
                t = np.clip((ys - lower) / depth, 0, 1)
                return np.where(ys >= start, ((1 - t) * amount + t * chin * chin_share * amount[m]) * settled, 0)

            # The lips press a little past meeting (max(2 px, 0.03 inter-ocular) mid-mouth), as lips do: the lower
            # lip already rises that much further against the teeth.
            press = max(2.0, 0.03 * iod) / max(lower[m] - upper[m], 1e-3) * (lower - upper)  # px, per column
            fall = (meet - upper + CLOSE_LIFT * press) * smoothstep(lm[33, 1], meet, ys)
            jaw_way, lip_way = lower - edge + (1 - CLOSE_LIFT) * press, edge - meet  # the lower lip's, per column
            self.jaw_close = (rise(edge, jaw_way) * still).astype(np.float32)
            self.lips_close = ((rise(meet, lip_way) - np.where(ys < meet, fall, 0)) * still).astype(np.float32)
            # The jaw's share of the closing: of the lower lip's whole way up (the press included), mid-mouth.
            self.jaw_share = float(jaw_way[m] / max(jaw_way[m] + lip_way[m], 1e-3))
            # Over the teeth's lower part (between where the lips meet and the teeth's edge) the lower lip's top
            # moves up as the lips close: rows above it still show the teeth, rows under it the lower lip, raised
            # by the jaw as well. The two fields, scaled, cannot say that; this band is set per frame (see close).
            r0, r1 = int(np.floor(meet.min())), int(np.ceil(edge.max())) + 1
            rows = slice(int(np.clip(r0 - ys[0, 0], 0, len(ys))), int(np.clip(r1 - ys[0, 0], 0, len(ys))))
            self._band = rows
            self._band_meet, self._band_edge = meet[None], edge[None]
            self._band_ys = ys[rows]
            self._band_jaw = (jaw_way * settled[rows] * still[rows]).astype(np.float32)
            self._band_lips = (lip_way * settled[rows] * still[rows]).astype(np.float32)
            inside = (col > lm[48, 0]) & (col < lm[54, 0])
            # Where the lower lip's top meets the teeth, and at last the upper lip (x, y shut, y at the teeth's edge).
            self.shut_line = np.stack([col[inside], meet[inside], edge[inside]], 1)

        # Lip width: the corners move (spread widens, rounding narrows), the middle of the mouth stays.
        dx, dy = xs - self.centre[0], ys - self.centre[1]
        window = np.exp(-(dx / (1.7 * half)) ** 2 - (dy / (1.1 * half)) ** 2)
        self.widen_field = (-dx * window * lip_sides(dx, half) * still).astype(np.float32)

    def open(self, ys: np.ndarray, open_px: float, rounded: float) -> np.ndarray:
        """The expression map's y (the rig's region, from its rows `ys`) with the mouth opened `open_px`, `rounded`
        (0..1): the fields of the two nearest roundings, bent towards their shape at the widest opening as the mouth
        opens."""
        bend = -open_px * min(open_px / self.widest_px, 1.0)
        at = float(np.interp(rounded, ROUNDINGS, np.arange(len(ROUNDINGS))))
        k = min(int(at), len(ROUNDINGS) - 2)
        local_y = ys.copy()
        for i, share in ((k, k + 1 - at), (k + 1, at - k)):
            if share > 0:
                cv2.scaleAdd(self.open_fields[i], -open_px * share, local_y, dst=local_y)
                cv2.scaleAdd(self.open_bends[i], bend * share, local_y, dst=local_y)
        return local_y

    def gaps(self, open_iod: float) -> tuple[float, float]:
        """(opening, closing) in pixels for the plan's opening (inter-ocular distances over closed lips)."""
        target = open_iod * self.iod * self.headroom
        if not self.rests_closed:
            return target, 0.0
        return max(target - self.photo_gap, 0.0), max(self.photo_gap - target, 0.0)

    def close(self, local_y: np.ndarray, close_px: float) -> LipEdge | None:
        """Add the closing of `close_px` of an open photo's gap to the expression map's y (the rig's region); return
        where what it raises meets the upper teeth (see LipEdge)."""
        jaw, lips = self.closing(close_px)
        cv2.scaleAdd(self.jaw_close, jaw, local_y, dst=local_y)
        meet, edge, ys = self._band_meet, self._band_edge, self._band_ys
        if lips <= 0:  # what the jaw raises meets the teeth at their edge
            base = local_y[self._band]
            under = np.clip(ys - edge + 0.5, 0, 1)
            raised = ys >= edge
            return LipEdge(self._band, (base + np.where(raised, -jaw, jaw) * self._band_jaw).astype(np.float32),
                           np.where(raised, 1 - under, under).astype(np.float32))
        cv2.scaleAdd(self.lips_close, lips, local_y, dst=local_y)
        base = local_y[self._band]
        over_teeth = (ys >= meet) & (ys < edge)
        under = np.clip(ys - (edge - lips * (edge - meet)) + 0.5, 0, 1)  # each pixel's share under the lip's top
        raised = under >= 0.5  # (seal draws the line it cuts)
        lip, teeth = self._band_jaw * over_teeth, -lips * self._band_lips * over_teeth
        local_y[self._band] = base + np.where(raised, lip, teeth)
        return LipEdge(self._band, (base + np.where(raised, teeth, lip)).astype(np.float32),
                       (np.where(raised, 1 - under, under) * over_teeth).astype(np.float32))

    def closing(self, close_px: float) -> tuple[float, float]:
        """How far (0..1) the jaw and then the lips have done their part of closing `close_px` of the photo's gap."""
        shut = min(close_px / max(self.photo_gap, 1e-3), 1.0)
        jaw = min(shut / max(self.jaw_share, 1e-3), 1.0)
        return jaw, float(np.clip((shut - self.jaw_share) / max(1 - self.jaw_share, 1e-3), 0, 1))

    # ----------------------------------------------------------------------------------------------- painting

    def paint(self, out: np.ndarray, local: np.ndarray, open_px: float, widen: float, fwd: np.ndarray) -> None:
        """Fill the gap the lips opened beyond the photo's: where this frame's expression map (`local`, the source
        of each pixel of the region of interest) tears the photo open at the parting, following the head (`fwd`,
        low-res, 1/LOW scale)."""
        if open_px < 0.5:
            return
        size = out.shape[0]
        xs = self.outline[0]  # (the opening's fields end at the corners: spread lips move what shows, not the gap)
        top, bottom = self._gap_edges(local)
        parted = bottom - top
        # Only where the lips part (rounded, they meet short of the corners), and the points where they meet: a
        # stretch of the outline with no gap, filled anti-aliased, drew a thin dark tail out to the corner.
        near = np.convolve(parted > 0.05, np.ones(3), "same") > 0
        if not near.any():  # (a tear under a pixel: nothing shows)
            return
        xs, top, bottom, parted = xs[near], top[near], bottom[near], parted[near]
        # The parting's dark line, stretched apart, would outline the opening: the inside covers it.
        cover = min(SEAM * self.iod, 0.25 * open_px) * np.sqrt(np.clip(parted / open_px, 0, 1))
        outline = np.concatenate([np.stack([xs, top - cover], 1), np.stack([xs, bottom + cover], 1)[::-1]])
        poly = self._moved(outline, 0.0, fwd)  # (the gap was read off the map: spreading is in it already)
        soft = self.look.softness
        pad = int(np.ceil(3 * soft)) + 2
        x0, y0 = np.floor(poly.min(0)).astype(int) - pad
        x1, y1 = np.ceil(poly.max(0)).astype(int) + pad + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        shift = 8  # sub-pixel polygon fill, then softened as the photo is soft
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(mask, [((poly - (x0, y0)) * (1 << shift)).astype(np.int32)], 1.0, cv2.LINE_AA, shift)
        mask = cv2.GaussianBlur(mask, (0, 0), soft)[..., None]
        gx, gy = np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32)[:, None]
        n = len(xs)
        top_y, bottom_y = curve(gx, poly[:n]), curve(gx, poly[n:])
        width = self.half * (1 + min(widen, 0.0))  # (rounded lips draw the teeth in with them)
        dx = np.broadcast_to(gx - poly[:, 0].mean(), (y1 - y0, x1 - x0))
        inside = self._interior(dx, gy - top_y, np.maximum(bottom_y - top_y, 1e-3), width)
        inside = cv2.GaussianBlur(self.look.paint(inside, self.look.grain[y0:y1, x0:x1]), (0, 0), soft * 0.7)
        alpha = mask * min(open_px / 2.0, 1.0)
        patch = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = (patch * (1 - alpha) + inside * alpha).clip(0, 255).astype(np.uint8)

    def seal(self, out: np.ndarray, close_px: float, widen: float, fwd: np.ndarray) -> None:
        """The soft dark line where an open photo's lower lip, rising as it shuts (`close_px` of the way), meets the
        upper teeth and then the upper lip, following the head: the fields cut there, a jagged edge at the pixel
        scale."""
        # It fades in with the whole closing: while the jaw still rises it lies under the upper teeth, where the
        # jaw's field cuts too (a pixel stair-step there) and a mouth is in shade.
        lips = self.closing(close_px)[1]
        strength = SEAL_DARK * smoothstep(0.5, 1.0, close_px / max(self.photo_gap, 1e-3))
        if strength <= 0 or len(self.shut_line) < 2:
            return
        x, meet, edge = self.shut_line.T
        line = self._moved(np.stack([x, edge - lips * (edge - meet)], 1), widen, fwd)
        width = SEAM * self.iod
        pad = int(np.ceil(3 * width)) + 2
        size = out.shape[0]
        x0, x1 = max(int(line[:, 0].min()), 0), min(int(np.ceil(line[:, 0].max())) + 1, size)
        y0, y1 = max(int(line[:, 1].min()) - pad, 0), min(int(np.ceil(line[:, 1].max())) + pad + 1, size)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        gx, gy = np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32)[:, None]
        ends = smoothstep(0.0, 0.05 * self.half, np.minimum(gx - line[0, 0], line[-1, 0] - gx))  # into the corners
        across = (gy - np.interp(gx, line[:, 0], line[:, 1])) / width
        alpha = (strength * ends * np.exp(-0.5 * across ** 2))[..., None]
        patch = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = (patch * (1 - alpha) + self.look.dark * alpha).clip(0, 255).astype(np.uint8)

    def _gap_edges(self, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows (pixels, to a fraction) between which the expression map `local` shows the gap, in the outline's
        columns: around the parting, the pixels whose source lies across it (under it, sampled from above: the jaw's
        drop; over it, from below: the upper lip's rise). Read off the map itself, whatever moved the lips: a
        shape worked out from the opening alone missed the corners, where the drop builds up more slowly and the
        gap runs deeper, and the teeth's copy showed there as a pale rim."""
        ox, oy = self.origin
        xs, seam = self.outline
        cols = np.clip(np.round(xs - ox).astype(int), 0, local.shape[1] - 1)
        rows = np.arange(local.shape[0], dtype=np.float32)[:, None] + oy
        source = local[:, cols]
        across = source[..., 1] - np.interp(source[..., 0], xs, seam)  # + : sourced from under the parting
        n = np.arange(len(xs))
        # The parting is where the map tears: going down, the source jumps back up (the outline's seam, a line
        # through a few points, may be a pixel off the fields' own).
        near = np.clip(np.ceil(seam - oy).astype(int)[None] + np.arange(-4, 4)[:, None], 0, len(rows) - 2)
        jump = source[near, n, 1] - source[near + 1, n, 1]  # -1 where the map runs on, more where it tears
        # (against the rows either side: the jaw's drop, growing down the lip, squeezes every row under the parting
        # a little, a step in the jumps, not a spike)
        sharp = jump[1:-1] - np.maximum(jump[:-2], jump[2:])
        torn = sharp.max(0) > 0.05
        first = np.clip(near[np.argmax(sharp, axis=0) + 1, n] + 1, 1, len(rows) - 2)  # the first row under the tear
        first_y = rows[first, 0]
        tear = first_y - 0.5

        def crossing(r: np.ndarray, step: int) -> np.ndarray:
            # (between row r, in the gap, and the next one out of it: where `across` passes 0)
            a, b = across[r, n], across[r + step, n]
            return rows[r, 0] + step * np.clip(a / np.where(a == b, 1.0, a - b), 0, 1)

        # Each side: the last gap row out from the tear and the crossing past it; with no gap row yet, the crossing
        # carried on from the row next to the tear (the map runs a pixel a row there), up to the tear: the gap
        # grows from nothing as the lips part, rather than a pixel at a time.
        below = (rows >= first_y) & (across >= 0)
        last = np.clip(np.argmax(below, axis=0) - 1, first - 1, len(rows) - 2)  # the last gap row under it
        bottom = np.where(last >= first, crossing(last, 1), np.maximum(first_y - across[first, n], tear))
        above = (rows < first_y) & (across <= 0)
        top_row = np.clip(len(rows) - 1 - np.argmax(above[::-1], axis=0) + 1, 1, first)  # the gap's first row over it
        over = first - 1
        top = np.where(top_row < first, crossing(top_row, -1), np.minimum(rows[over, 0] - across[over, n], tear))
        top, bottom = np.where(torn, top, seam), np.where(torn, np.maximum(bottom, top), seam)
        return top.astype(np.float32), bottom.astype(np.float32)

    def _moved(self, points: np.ndarray, widen: float, fwd: np.ndarray) -> np.ndarray:
        """Points along the lips (x, y; changed in place) where this frame puts them: widened as widen_field moves
        the lips, then following the head (`fwd`, low-res, 1/LOW scale)."""
        dx = points[:, 0] - self.centre[0]
        points[:, 0] += widen * dx * 0.8 * lip_sides(dx, self.half)
        points += sample(fwd, points / LOW)
        return points

    def _interior(self, dx: np.ndarray, down: np.ndarray, gap: np.ndarray, half: float) -> np.ndarray:
        """Colours of the mouth's inside at each pixel, `dx` from its middle and `down` px under its upper edge, in a
        column whose gap is `gap` px: the rectified interior sampled so that its teeth keep their natural height."""
        inner = self.interior
        natural = inner.aspect * 2 * half  # the interior's height at this width, as in its photo
        top = np.minimum(inner.upper_teeth * natural if self.draw_teeth else 0.0, 0.7 * gap)
        # The band of the lower teeth that shows over the lip: on the widest vowels, mid-mouth.
        across = np.clip(1 - (dx / (LOWER_ACROSS * half)) ** 2, 0, 1)
        shown = LOWER_SHOWN * inner.lower_teeth * smoothstep(LOWER_FROM, 1.0, gap / natural) * across
        bottom = np.minimum(shown * natural, np.maximum(gap - top - 0.12 * natural, 0))
        middle = np.maximum(gap - top - bottom, 1e-3)
        v = np.where(down < top, inner.upper_teeth * down / np.maximum(top, 1e-3),
                     np.where(down > gap - bottom,
                              1 - inner.lower_teeth + shown * (1 - (gap - down) / np.maximum(bottom, 1e-3)),
                              inner.upper_teeth + (1 - inner.lower_teeth - inner.upper_teeth) * (down - top) / middle))
        h, w = inner.texture.shape[:2]
        map_x = ((np.clip(dx / half, -1, 1) + 1) / 2 * (w - 1)).astype(np.float32)
        map_y = (np.clip(v, 0, 1) * (h - 1)).astype(np.float32)
        colour = cv2.remap(inner.texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        side = np.clip(np.abs(dx) / half, 0, 1)
        return colour * (1 - 0.3 * side ** 2)[..., None]  # the cheeks shade the sides


def _laid_on_lip(drop: np.ndarray, rows: np.ndarray, seam: np.ndarray, px: float) -> np.ndarray:
    """The jaw's `drop` (per pixel of opening, per pixel of the rig's region; 0 above the parting `seam`, per column)
    as it is when the mouth opens `px`, if each value is how far that point of the photo's lip moves: per pixel of
    the frame, how far (per pixel of opening) above it its source lies. A field read as it is, the frame's pixel
    taking its own row's drop, tears the gap open too deep wherever the drop grows down the lip (under the corners,
    growing to the chin's, a gap nearly as deep as mid-mouth: a box) and stretches the lip under it as much again."""
    laid = np.zeros_like(drop)
    for c in range(drop.shape[1]):
        below = np.flatnonzero(rows >= seam[c])
        if below.size < 2:
            continue
        y, d = rows[below], drop[below, c]
        # The lip's top, at the parting itself (its drop carried on up from the first two rows under it), then the
        # rows under it: where each goes.
        top = max(d[0] - (d[1] - d[0]) * (y[0] - seam[c]), 0.0)
        src, moved = np.r_[seam[c], y], np.r_[top, d]
        lands = np.maximum.accumulate(src + px * moved)
        source = np.where(y < lands[0], y - px * top, np.interp(y, lands, src))  # (over the lip's top: the gap)
        laid[below, c] = (y - source) / px
    return laid


def _inside_luma(grey: np.ndarray, lm: np.ndarray) -> float:
    """Median brightness between the inner lips (the photo's own mouth opening); large when there is none."""
    mask = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(mask, [np.round(lm[LIPS_INNER]).astype(np.int32)], 1)
    inside = grey[mask > 0]
    return float(np.median(inside)) if inside.size >= 10 else 255.0


def _opening_rows(image: np.ndarray, lm: np.ndarray, col: np.ndarray,
                  look: PhotoLook) -> tuple[np.ndarray, np.ndarray]:
    """The top and bottom row (y, pixels) of what an open photo's lips frame, per column of `col` (nan where they
    frame nothing): within the outer lips and a little past their corners, the pixels much darker than the lips (the
    cavity, the shade under the upper lip) or as light as teeth and less red than lips, connected to the opening
    between the inner lips."""
    reach = int(np.ceil(0.04 * (lm[54, 0] - lm[48, 0])))  # past the corner landmarks, which the dark outruns
    x0, y0 = np.floor(lm[LIPS_OUTER].min(0)).astype(int) - (reach, 0)
    x1, y1 = np.ceil(lm[LIPS_OUTER].max(0)).astype(int) + (reach + 1, 1)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, image.shape[1]), min(y1, image.shape[0])
    top = np.full(len(col), np.nan, np.float32)
    bottom = top.copy()
    if x1 - x0 < 3 or y1 - y0 < 3:
        return top, bottom
    patch = image[y0:y1, x0:x1].astype(np.float32)
    light, lips = luma(patch), float(luma(look.lips))
    teeth = (light > TEETH_LIGHT * lips) & less_red_than_lips(patch, look.lips)
    frames = (light < OPENING_DARK * lips) | teeth
    outer, inner = (np.zeros(frames.shape, np.uint8) for _ in range(2))
    cv2.fillPoly(outer, [np.round(lm[LIPS_OUTER] - (x0, y0)).astype(np.int32)], 1)
    outer = cv2.dilate(outer, np.ones((1, 2 * reach + 1), np.uint8))
    cv2.fillPoly(inner, [np.round(lm[LIPS_INNER] - (x0, y0)).astype(np.int32)], 1)
    _, labels = cv2.connectedComponents((frames & (outer > 0)).astype(np.uint8), connectivity=4)
    seen = np.unique(labels[(inner > 0) & (labels > 0)])
    opening = np.isin(labels, seen[seen > 0])
    for i, x in enumerate(np.round(col).astype(int)):
        if x0 <= x < x1 and opening[:, x - x0].any():
            rows = np.flatnonzero(opening[:, x - x0])
            top[i], bottom[i] = y0 + rows[0] - 0.5, y0 + rows[-1] + 0.5
    return top, bottom


def _teeth_edge(grey: np.ndarray, col: np.ndarray, start: np.ndarray, stop: np.ndarray, mx: float,
                half: float, first: bool = False) -> np.ndarray:
    """Where the photo's upper teeth end, per column (y, pixels): the sharpest fall from bright to dark going down
    between rows `start` and `stop` (`start` itself where fewer than 3 columns show a clear one); with `first`, the
    first fall nearly as sharp (a smile showing both rows of teeth: the lower row ends lower). Each column takes
    one of the lowest edges near it (the gap between two teeth ends higher than they do: the jaw opened in and out of
    the gaps, a saw-tooth), then columns without a clear edge, and the edge's wiggles, take a running median of their
    neighbours', so the jaw opens along the teeth's own line; a stretch well below a robust arch through the rest is
    held to it."""
    edge = np.full(len(col), np.nan, np.float32)
    for c in np.flatnonzero(np.abs(col - mx) < 0.85 * half):
        y0, y1 = int(start[c]), int(np.ceil(stop[c])) + 1
        if y0 < 1 or y1 >= grey.shape[0] or y1 - y0 < 3:
            continue
        x = int(col[c])
        profile = grey[y0 - 1:y1 + 1, x - 1:x + 2].astype(np.float32).mean(1)
        fall = profile[:-2] - profile[2:]  # central difference, + where it darkens going down
        if fall.max() > 12:  # a clear edge
            if first:
                peak = (fall >= np.roll(fall, 1)) & (fall >= np.roll(fall, -1))
                edge[c] = y0 + int(np.argmax(peak & (fall > max(12.0, FIRST_FALL * fall.max())))) + 0.5
            else:
                edge[c] = y0 + int(np.argmax(fall)) + 0.5
    found = np.flatnonzero(~np.isnan(edge))
    if found.size < 3:
        return start
    offsets = edge[found] - stop[found]
    window = max(3, int(0.15 * half) | 1)
    reach = max(3, int(0.3 * half) | 1)  # a tooth and a gap or two
    tips = np.array([np.percentile(offsets[max(i - reach // 2, 0):i + reach // 2 + 1], 75) for i in range(len(found))])
    smooth = np.array([np.median(tips[max(i - window // 2, 0):i + window // 2 + 1]) for i in range(len(found))])
    # The teeth's line is a smooth arch: a stretch found well below it is the lower teeth's end, where the rows of
    # teeth meet without a clear dark between them (a robust parabola through the rest bounds it).
    x = col[found] - mx
    keep = np.ones(len(found), bool)
    for _ in range(3):
        arch = np.polyval(np.polyfit(x[keep], smooth[keep], 2), x)
        keep = smooth - arch <= max(float(np.percentile(np.abs(smooth - arch), 60)), 1.0)
    smooth = np.minimum(smooth, arch + max(1.0, 0.05 * half))
    return np.interp(np.arange(len(col)), found, smooth) + stop
