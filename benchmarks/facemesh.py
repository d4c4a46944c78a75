"""Independent landmarks for benchmarks/quality.py: Google's MediaPipe FaceMesh (478 points), run in its own venv.

    .venv-measure/bin/python benchmarks/facemesh.py FRAMES.npy OUT.json [X Y]     (make measure-tools creates it)

The engine places its controls with dlib's 68-point model, so judging its eyes and mouth with that model would
grade it by its own ruler. FaceMesh was trained apart from it, and mediapipe 0.10.14 ships the model inside its
wheel (Apache-2.0; newer releases ship none). It cannot share a venv with the app (it pins its own OpenCV and
protobuf), hence the separate interpreter. Each frame is measured on its own (static mode: no tracking between
frames that could smooth a blink away).

Writes, per frame: `found`, `eye` (eyelid gap over eye width, both eyes averaged), `mouth` (inner-lip gap over the
inter-ocular distance) and `iod` (pixels). In a photo of several people the face measured is the one whose eyes
lie nearest (X, Y), pixels (default: the frame's middle), within NEAR: the animated one, not whichever FaceMesh is
surest of.
"""
from __future__ import annotations

import json
import sys

import numpy as np

# FaceMesh indices: (upper, lower) eyelid pairs and the two corners of each eye; inner-lip middle; eye centres.
EYES = ({"pairs": [(160, 144), (158, 153)], "corners": (33, 133)},
        {"pairs": [(385, 380), (387, 373)], "corners": (362, 263)})
INNER_LIPS = (13, 14)
EYE_RINGS = ([33, 133, 159, 145], [362, 263, 386, 374])
NEAR = 0.15  # the measured face's eyes lie within this share of the frame's width of (X, Y)


def measure(frames: np.ndarray, near: tuple[float, float] | None = None) -> list[dict]:
    import mediapipe as mp

    out = []
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=8) as mesh:
        for frame in frames:
            found = mesh.process(np.ascontiguousarray(frame)).multi_face_landmarks
            if not found:
                out.append({"found": False})
                continue
            h, w = frame.shape[:2]
            target = np.array(near if near is not None else (w / 2, h / 2))
            faces = [np.array([(q.x * w, q.y * h) for q in face.landmark]) for face in found]
            eyes = [np.linalg.norm(f[EYE_RINGS[0] + EYE_RINGS[1]].mean(0) - target) for f in faces]
            if min(eyes) > NEAR * w:  # only other faces found: this one is missed, not swapped for a neighbour
                out.append({"found": False})
                continue
            p = faces[int(np.argmin(eyes))]
            ratios = []
            for eye in EYES:
                gaps = sum(np.linalg.norm(p[a] - p[b]) for a, b in eye["pairs"]) / len(eye["pairs"])
                ratios.append(gaps / np.linalg.norm(p[eye["corners"][0]] - p[eye["corners"][1]]))
            iod = float(np.linalg.norm(p[EYE_RINGS[0]].mean(0) - p[EYE_RINGS[1]].mean(0)))
            mouth = float(p[INNER_LIPS[1], 1] - p[INNER_LIPS[0], 1]) / iod
            out.append({"found": True, "eye": float(np.mean(ratios)), "mouth": mouth, "iod": iod})
    return out


if __name__ == "__main__":
    frames = np.load(sys.argv[1])
    near = (float(sys.argv[3]), float(sys.argv[4])) if len(sys.argv) > 4 else None
    with open(sys.argv[2], "w") as file:
        json.dump(measure(frames, near), file)
