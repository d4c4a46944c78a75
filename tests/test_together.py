"""Sing together, judged on the output pixels face by face: a group photo (a composite of public-domain portraits)
and several photos, in every arrangement, from Python and the command line."""
from __future__ import annotations

import itertools
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from emo import arrange, group, serve
from emo.errors import FaceError, UserError
from emo.face import detect_face
from emo.photo import load_photo
from emo.pipeline import SingOptions, prepare_audio, resolve_song
from emo.together import sing_together

from .conftest import ROOT, decode_frames
from .server import file_data

PORTRAITS = [ROOT / "examples" / "grace_hopper.jpg", ROOT / "examples" / "eileen_collins.jpg",
             ROOT / "tests" / "data" / "whitehouse_speaking.jpg"]
SONG = "are-you-sleeping"  # a round, with rests between its phrases


@pytest.fixture(scope="module")
def group_photo(tmp_path_factory):
    """Three public-domain portraits at different sizes, side by side on one wall: a group photo whose licence is
    clean."""
    wall = np.empty((560, 1180, 3), np.uint8)
    wall[:] = np.linspace(90, 150, 1180, dtype=np.uint8)[None, :, None]
    x = 20
    for path, height in zip(PORTRAITS, (430, 360, 500)):
        rgb = load_photo(path)
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * height / rgb.shape[0]), height), interpolation=cv2.INTER_AREA)
        width = min(rgb.shape[1], 380)  # the middle of each, side by side
        left = (rgb.shape[1] - width) // 2
        wall[560 - height:, x:x + width] = rgb[:, left:left + width]
        x += width + 15
    path = tmp_path_factory.mktemp("group") / "group.png"
    cv2.imwrite(str(path), cv2.cvtColor(wall, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="module")
def features():
    return prepare_audio(resolve_song(SONG), SingOptions(), [])


def _openings(frames: np.ndarray, stage: group.Stage, every: int = 2) -> np.ndarray:
    """Mouth opening of each singer (inter-ocular distances) on every `every`-th frame, read by dlib on the output
    pixels of the singer's square: (singers, frames)."""
    out = []
    for singer in stage.singers:
        top, left = singer.at
        side = singer.portrait.shape[0]
        out.append([detect_face(np.ascontiguousarray(f[top:top + side, left:left + side])).mouth_opening
                    for f in frames[::every]])
    return np.array(out)


def _sing(tmp_path, photos, arrangement, **kwargs):
    result = sing_together(photos, kwargs.pop("song", SONG), arrangement=arrangement, out=tmp_path / "v.mp4", **kwargs)
    stage = group.stage_of(photos)
    frames = decode_frames(result.video, stage.image.shape[:2])
    assert len(frames) == result.frames
    return result, stage, frames


def test_a_group_photo_finds_every_face_numbered_left_to_right(group_photo):
    stage = group.from_group_photo(group_photo)
    assert [s.number for s in stage.singers] == [1, 2, 3]
    assert [s.at[1] for s in stage.singers] == sorted(s.at[1] for s in stage.singers)
    assert stage.image.shape[1] <= group.MAX_SIDE and stage.image.shape[0] % 2 == 0
    preview = group.numbered(stage)
    assert preview.shape == stage.image.shape and np.any(preview != stage.image)


@pytest.mark.slow
def test_together_every_face_sings_and_the_space_between_stays(tmp_path, group_photo, features):
    result, stage, frames = _sing(tmp_path, [group_photo], "together")
    opening = _openings(frames, stage)
    loud = features.loudness[::2][: opening.shape[1]]
    for face in opening:
        assert np.corrcoef(face, loud)[0, 1] > 0.7
    # Outside every singer's square the picture is the photo's, in every frame (encoder noise aside).
    outside = np.ones(stage.image.shape[:2], bool)
    for singer in stage.singers:
        top, left = singer.at
        side = singer.portrait.shape[0]
        outside[top:top + side, left:left + side] = False
    outside[:60, -260:] = False  # the AI-generated mark
    drift = np.abs(frames[:, outside].astype(int) - stage.image[outside]).mean(axis=1)
    assert drift.max() < 3.0


@pytest.mark.slow
def test_turns_the_listeners_keep_their_mouths_shut(tmp_path, group_photo, features):
    result, stage, frames = _sing(tmp_path, [group_photo], "turns")
    turns = arrange.turns(features, 3)
    opening = _openings(frames, stage)
    loud = features.loudness[::2][: opening.shape[1]] > 0.3
    for i, turn in enumerate(turns):
        mine, theirs = loud & (turn[::2][: opening.shape[1]] > 0), loud & (turn[::2][: opening.shape[1]] == 0)
        assert mine.sum() > 5 and theirs.sum() > 5
        rest = np.median(opening[i][~loud])
        assert np.median(opening[i][theirs]) < rest + 0.03  # listening: shut
        assert np.median(opening[i][mine]) > rest + 0.08  # singing: open


@pytest.mark.slow
def test_round_each_face_follows_its_own_delayed_voice(tmp_path, features):
    photos = PORTRAITS[:2]
    result, stage, frames = _sing(tmp_path, photos, "round", round_beats=4)
    lag = round(4 * arrange.beat_seconds(features) * features.fps)
    assert result.frames == features.n_frames + lag  # the round lasts one entry longer
    opening = _openings(frames, stage, every=1)
    for k, face in enumerate(opening):
        own = np.zeros(result.frames)
        own[k * lag:k * lag + features.n_frames] = features.loudness[: result.frames - k * lag]
        other = np.zeros(result.frames)
        other[(1 - k) * lag:(1 - k) * lag + features.n_frames] = features.loudness[: result.frames - (1 - k) * lag]
        assert np.corrcoef(face, own)[0, 1] > 0.7
        assert np.corrcoef(face, own)[0, 1] > np.corrcoef(face, other)[0, 1] + 0.2


@pytest.mark.slow
def test_own_voices_each_face_sings_its_own_clip(tmp_path):
    clips = [ROOT / "assets" / "songs" / name / "vocals.flac" for name in ("happy-birthday", "mo-li-hua")]
    result, stage, frames = _sing(tmp_path, PORTRAITS[1:], "voices", voices=clips, song=None)
    opening = _openings(frames, stage)
    own = [prepare_audio(resolve_song(c), SingOptions(), []).loudness for c in clips]
    for i, face in enumerate(opening):
        series = [np.pad(o, (0, max(result.frames - len(o), 0)))[::2][: len(face)] for o in own]
        assert np.corrcoef(face, series[i])[0, 1] > np.corrcoef(face, series[1 - i])[0, 1] + 0.2


@pytest.mark.parametrize("call, message", [
    (lambda: group.from_photos([PORTRAITS[0]]), "2 to 4 photos"),
    (lambda: group.from_photos(PORTRAITS * 2), "2 to 4 photos"),
    (lambda: group.from_group_photo(PORTRAITS[0]), "two or more faces"),
    (lambda: sing_together(PORTRAITS[:2], SONG, arrangement="canon"), "Unknown arrangement"),
    (lambda: sing_together(PORTRAITS[:2], None, arrangement="voices", voices=[PORTRAITS[0]]), "one audio clip"),
    (lambda: sing_together(PORTRAITS[:2], SONG, round_beats=0), "beats apart"),
    (lambda: sing_together(PORTRAITS[:2], None), "Choose a song"),
])
def test_bad_requests_get_a_sentence(call, message):
    with pytest.raises(UserError, match=message):
        call()


def test_a_photo_without_a_face_is_named(tmp_path):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((300, 300, 3), 128, np.uint8))
    with pytest.raises(FaceError, match="^Photo 2: "):
        group.from_photos([PORTRAITS[0], blank])


@pytest.mark.slow
def test_the_command_line_sings_together(tmp_path):
    out = tmp_path / "duet.mp4"
    done = subprocess.run([sys.executable, "-m", "emo", "together", *map(str, PORTRAITS[:2]), "twinkle-twinkle",
                           "-o", str(out), "--arrangement", "turns", "-q"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert out.is_file() and done.stdout.strip() == str(out)
    bad = subprocess.run([sys.executable, "-m", "emo", "together", str(PORTRAITS[0]), "twinkle-twinkle", "-o",
                          str(tmp_path / "x.mp4"), "-q"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


# ---------------------------------------------------------------------------------------------- the served app

def _together_call(server, group_file, *, arrangement="together", voices=None, slots=(None,) * 4):
    data = [group_file and file_data(group_file), *slots, SONG, None, voices, arrangement, 8, 0.5, 0]
    return server.call(data, api="generate_together", timeout=300)


@pytest.mark.slow
def test_the_page_sings_a_group_photo_over_plain_http(server, group_photo):
    uploaded = server.upload("group.png", group_photo.read_bytes())
    event, payload = server.call([file_data(uploaded)], api="faces_found")
    assert event == "complete", payload[:300]
    preview, note = json.loads(payload)
    assert preview and note.startswith("3 faces will sing")
    event, payload = _together_call(server, uploaded, arrangement="turns")
    assert event == "complete", payload[:300]
    video, status = json.loads(payload)
    assert video and status.startswith("Done"), status


@pytest.mark.slow
@pytest.mark.parametrize("voices, expected", [
    ([{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}], "not uploaded"),
    ("clip.wav", "not a file"),
    ([{"path": 5}], "not a file"),
])
def test_voice_clips_must_be_uploads(server, group_photo, voices, expected):
    uploaded = server.upload("group.png", group_photo.read_bytes())
    data = [file_data(uploaded), None, None, None, None, SONG, None, voices, "voices", 8, 0.5, 0]
    event, payload = server.call(data, api="generate_together", timeout=30)
    want = serve.NOT_UPLOADED if expected == "not uploaded" else serve.not_a_file("voices")
    assert event == "error" and want in payload, payload[:300]
    assert "Traceback" not in payload


@pytest.mark.slow
@pytest.mark.parametrize("arrangement, beats, says", [("canon", 8, "Unknown arrangement"), ("round", 99, "beats apart"),
                                                      ("round", "8; rm -rf", "beats apart")])
def test_typed_values_get_a_sentence_too(server, group_photo, arrangement, beats, says):
    uploaded = server.upload("group.png", group_photo.read_bytes())
    data = [file_data(uploaded), None, None, None, None, SONG, None, None, arrangement, beats, 0.5, 0]
    event, payload = server.call(data, api="generate_together", timeout=60)
    assert event == "complete", payload[:300]
    video, status = json.loads(payload)
    assert video is None and says in status, status


@pytest.mark.slow
def test_a_group_photo_and_photos_at_once_are_refused(server, group_photo):
    uploaded = file_data(server.upload("group.png", group_photo.read_bytes()))
    data = [uploaded, uploaded, None, None, None, SONG, None, None, "together", 8, 0.5, 0]
    event, payload = server.call(data, api="generate_together", timeout=30)
    video, status = json.loads(payload)
    assert video is None and "not both" in status


@pytest.mark.slow
def test_a_face_short_of_frames_leaves_no_video(tmp_path, group_photo, monkeypatch):
    """Each face's frames are held to the engine interface (as a single photo's are): one short, and no file is left."""
    from emo.engines.warp import WarpEngine

    render = WarpEngine.render
    monkeypatch.setattr(WarpEngine, "render", lambda self, job, progress: itertools.islice(
        render(self, job, progress), job.n_frames - 1))
    with pytest.raises(RuntimeError, match="engine produced"):
        sing_together([group_photo], SONG, end=1.5, out=tmp_path / "v.mp4")
    assert not list(tmp_path.iterdir())
