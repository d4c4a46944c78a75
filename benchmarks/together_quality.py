"""Sing together, face by face: every face's mouth read by dlib on the output pixels of its own square.

    .venv/bin/python benchmarks/together_quality.py [--photos GROUP.jpg ...] [--song are-you-sleeping]

Per photo (a group photo) and arrangement it prints, for each face: lip sync (r of mouth opening against the voice
that face should sing, at lag 0), how far the mouth opens while that face sings and while it should be silent
(inter-ocular distances over its median rest), and in a round, r against the other entries' voices (it must follow
its own). Defaults: ../shared/data/faces-dev's two- and five-face photos (never copied into the repository).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from emo import arrange, group
from emo.face import find_faces
from emo.pipeline import SingOptions, prepare_audio, resolve_song
from emo.together import sing_together
from quality import decode_video  # benchmarks/ is on sys.path when a benchmark runs as a script

ROOT = Path(__file__).resolve().parent.parent

DEV = ROOT.parent / "shared" / "data" / "faces-dev"
DEFAULT_PHOTOS = [DEV / "d03_couple_two_faces.jpg", DEV / "d08_group_five.jpg"]


def openings(frames: np.ndarray, stage: group.Stage) -> np.ndarray:
    out = np.full((len(stage.singers), len(frames)), np.nan)
    for k, singer in enumerate(stage.singers):
        top, left = singer.at
        side = singer.portrait.shape[0]
        centre = np.add(singer.face.box[:2], singer.face.box[2:]) / 2
        for i, frame in enumerate(frames):
            found = find_faces(np.ascontiguousarray(frame[top:top + side, left:left + side]))
            if found:  # the face nearest the singer's: a neighbour may show in the square too
                near = min(found, key=lambda f: np.hypot(*(np.add(f.box[:2], f.box[2:]) / 2 - centre)))
                out[k, i] = near.mouth_opening
    return out


def expected(arrangement: str, features, singers: int, frames: int, lag: int) -> list[np.ndarray]:
    """The voice loudness each face should follow, per frame."""
    if arrangement == "turns":
        return [features.loudness * turn for turn in arrange.turns(features, singers)]
    if arrangement == "round":
        voices = []
        for k in range(singers):
            own = np.zeros(frames)
            part = features.loudness[: max(frames - k * lag, 0)]
            own[k * lag:k * lag + len(part)] = part
            voices.append(own)
        return voices
    return [features.loudness] * singers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", nargs="+", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--song", default="are-you-sleeping")
    parser.add_argument("--round-beats", type=int, default=8)
    args = parser.parse_args()
    features = prepare_audio(resolve_song(args.song), SingOptions(), [])
    lag = round(args.round_beats * arrange.beat_seconds(features) * features.fps)
    print(f"{args.song}; mouth opening in inter-ocular distances over each face's median rest")
    print(f"{'photo':24} {'arrangement':11} face   r own   r others  singing  silent")
    with tempfile.TemporaryDirectory() as tmp:
        for photo in args.photos:
            stage = group.stage_of([photo])
            for arrangement in ("together", "turns", "round"):
                result = sing_together([photo], args.song, arrangement=arrangement, round_beats=args.round_beats,
                                       out=Path(tmp) / "v.mp4")
                frames = decode_video(result.video, stage.image.shape[:2])
                opened = openings(frames, stage)
                voices = expected(arrangement, features, len(stage.singers), len(frames), lag)
                for k, (face, voice) in enumerate(zip(opened, voices)):
                    ok = ~np.isnan(face)
                    rest = np.median(face[ok & (voice < 0.05)]) if (ok & (voice < 0.05)).any() else np.nan
                    r = np.corrcoef(face[ok], voice[ok])[0, 1]
                    others = [np.corrcoef(face[ok], v[ok])[0, 1] for j, v in enumerate(voices)
                              if j != k and not np.array_equal(v, voice)]
                    sing = np.median(face[ok & (voice > 0.3)]) - rest
                    quiet = (ok & (voice < 0.05) & (features.loudness[: len(face)] > 0.3)
                             if arrangement == "turns" else ok & (voice < 0.05))
                    silent = np.median(face[quiet]) - rest if quiet.any() else np.nan
                    shown = f"{max(others):8.2f}" if others else "       -"
                    print(f"{photo.name[:24]:24} {arrangement:11} {stage.singers[k].number:4d} {r:7.2f} {shown} "
                          f"{sing:8.3f} {silent:7.3f}")


if __name__ == "__main__":
    main()
