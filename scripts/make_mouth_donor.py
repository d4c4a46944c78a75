"""Build the mouth interior the CPU engine paints open mouths with, from a public-domain photo of an open mouth.

    .venv/bin/python scripts/make_mouth_donor.py PHOTO [--out emo/engines/warp/assets]

The inside of the photo's mouth (between its inner lips) is resampled onto a rectangle: across, the inner lips'
width; down, from the upper inner lip to the lower one, column by column. Written beside it, as JSON: where its
upper teeth end and its lower teeth begin (fractions of the height, found in its middle columns), and the colour of
its lips, which the engine maps onto each photo's own (see emo/engines/warp/mouth.py). The committed asset was made
from the official White House photo of Barack Obama speaking (a work of the US federal government: public domain),
as shipped in face-recognition 1.3.0's tests (obama2.jpg); see emo/engines/warp/assets/README.md.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from emo.engines.warp.shapes import curve
from emo.face import check_photo

ROOT = Path(__file__).resolve().parent.parent

WIDTH, HEIGHT = 160, 80  # the rectangle, pixels


def _run_end(bright: np.ndarray) -> int:
    """Where the first bright run (teeth) that starts within the first two fifths of `bright` ends; 0 if none does."""
    starts = np.flatnonzero(bright[: max(len(bright) * 2 // 5, 1)])
    if starts.size == 0:
        return 0
    after = np.flatnonzero(~bright[starts[0]:])
    return int(starts[0] + (after[0] if after.size else len(bright) - starts[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "emo" / "engines" / "warp" / "assets")
    args = parser.parse_args()
    rgb, face = check_photo(args.photo)
    lm = face.landmarks
    cx, half = (lm[60, 0] + lm[64, 0]) / 2, (lm[64, 0] - lm[60, 0]) / 2 * 1.04
    u = np.linspace(-1, 1, WIDTH, dtype=np.float32)
    xs = cx + u * half
    upper, lower = curve(xs, lm[[60, 61, 62, 63, 64]]), curve(xs, lm[[60, 67, 66, 65, 64]])
    v = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None]
    map_x = np.broadcast_to(xs[None], (HEIGHT, WIDTH)).astype(np.float32)
    map_y = (upper[None] + v * (lower - upper)[None]).astype(np.float32)
    inside = cv2.remap(rgb, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)

    # Teeth bands: as far as the longest teeth reach in the middle columns (the engine draws its rows of teeth there;
    # a lower tooth reaching past the band's edge was left standing in the tongue as a pale fleck).
    grey = cv2.cvtColor(inside, cv2.COLOR_RGB2GRAY).astype(np.float32)
    middle = grey[:, int(0.3 * WIDTH):int(0.7 * WIDTH)]
    top, bottom = middle[: HEIGHT // 2], middle[::-1][: HEIGHT // 2]  # each half judged by its own brightest
    top_teeth, low_reach = (max(_run_end(half[:, c] > 0.6 * half.mean(1).max()) for c in range(half.shape[1]))
                            for half in (top, bottom))
    low_teeth = HEIGHT - low_reach
    ring = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(ring, [np.round(lm[48:60]).astype(np.int32)], 1)
    cv2.fillPoly(ring, [np.round(lm[60:68]).astype(np.int32)], 0)
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    lips = np.median(lab[ring > 0], axis=0)

    args.out.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out / "mouth_interior.png"), cv2.cvtColor(inside, cv2.COLOR_RGB2BGR))
    (args.out / "mouth_interior.json").write_text(json.dumps({
        "upper_teeth_end": round(top_teeth / HEIGHT, 3), "lower_teeth_start": round(low_teeth / HEIGHT, 3),
        "height_over_width": round(float(np.median(lower - upper) / (2 * half)), 3),
        "lips_lab": [round(float(c), 2) for c in lips],
    }, indent=1) + "\n")
    print(f"wrote {args.out / 'mouth_interior.png'}: teeth bands 0-{top_teeth} and {low_teeth}-{HEIGHT} of {HEIGHT}")


if __name__ == "__main__":
    main()
