"""Many users at once: eight gradio_client sessions against one server on 127.0.0.1.

Each client sends its own photo and its own clip, so a mix-up between sessions would show: every video must last as
long as its own clip and start with its own face. Clips are 1-4 s of own audio (not 10-14 s presets) to keep the
test to a few seconds on 2 cores; the server renders at most EMO_CONCURRENCY (2) at a time and queues the rest.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from itertools import groupby
from pathlib import Path
from statistics import median

import cv2
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.utils import Status
from PIL import Image

import emo
from emo.ffmpeg import exe as ffmpeg_exe
from emo.face import check_photo, crop_portrait

from . import images
from .conftest import ROOT, decode_frames, duration
from .server import files_under

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("client_temp_dir")]  # eight clients, one served app

CLIENTS = 8
TTL_S = 60  # the server's EMO_OUTPUT_TTL_S: short, so expiry can be checked by back-dating files, not by waiting
DEADLINE_S = 150  # for all eight videos together; they take ~15 s on 2 cores
PRESET = emo.list_songs()[0].id  # the dropdown must hold a valid preset even when own audio is sung
SERVER_ENV = {"EMO_OUTPUT_TTL_S": str(TTL_S)}  # for conftest's server fixture


def _variants() -> dict[str, np.ndarray]:
    """Eight photos whose video frames cannot be confused: two people, mirrored and with their colours permuted."""
    astronaut = images.astronaut()
    hopper = np.asarray(Image.open(ROOT / "examples" / "grace_hopper.jpg").convert("RGB"))
    photos = {}
    for name, rgb in (("astronaut", astronaut), ("hopper", hopper)):
        photos[name] = rgb
        photos[f"{name}-mirrored"] = rgb[:, ::-1]
        photos[f"{name}-brg"] = rgb[:, :, [2, 0, 1]]
        photos[f"{name}-gbr-mirrored"] = rgb[:, ::-1, [1, 2, 0]]
    return {name: np.ascontiguousarray(rgb) for name, rgb in photos.items()}


def _thumb(rgb: np.ndarray) -> np.ndarray:
    """32 x 32 area average: keeps who and which colours, drops the head motion and the moving mouth."""
    return cv2.resize(rgb.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def users(tmp_path_factory):
    """Per user: (photo file, own clip file, clip seconds, the portrait its video must start from)."""
    folder = tmp_path_factory.mktemp("users")
    table = []
    for index, (name, rgb) in enumerate(_variants().items()):
        photo = folder / f"{name}.png"
        Image.fromarray(rgb).save(photo)
        seconds = 1.2 + 0.4 * index  # 10 video frames apart: a swapped clip shows in the duration
        clip = folder / f"{name}.wav"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"sine=f={200 + 40 * index}:d={seconds}",
                        str(clip)], check=True)
        full, face = check_photo(rgb)
        table.append((photo, clip, seconds, _thumb(crop_portrait(full, face, 512)[0])))
    return table


def test_finished_outputs_expire_on_the_next_request(server, users, tmp_path):
    """Videos older than EMO_OUTPUT_TTL_S are deleted when the next video is made; younger ones stay."""
    client = Client(server.url, verbose=False, download_files=str(tmp_path))
    photo, clip, *_ = users[0]
    client.predict(handle_file(str(photo)), PRESET, handle_file(str(clip)), 0.5, 0, api_name="/generate")
    old = sorted(server.output_dir.glob("*.mp4"))
    assert len(old) == 1
    young = server.output_dir / "young.mp4"
    shutil.copy(old[0], young)
    now = time.time()  # back-date the files instead of sleeping past the TTL
    os.utime(old[0], (now - TTL_S - 30, now - TTL_S - 30))
    os.utime(young, (now - TTL_S + 30, now - TTL_S + 30))

    client.predict(handle_file(str(photo)), PRESET, handle_file(str(clip)), 0.5, 1, api_name="/generate")
    left = files_under(server.output_dir)
    assert not old[0].exists(), "a video older than the TTL was not deleted"
    assert young in left, "a video younger than the TTL was deleted"
    assert len(left) == 2 and all(p.suffix == ".mp4" for p in left), left  # young + the new one; no partial files


# The face detector (dlib's HOG) is shared by the worker threads, and dlib's detector object is not thread-safe: with
# two renders at once (EMO_CONCURRENCY=2) it finds phantom faces ("several faces of similar size"), raises, or
# corrupts the heap and kills the server (free(): invalid next size / SIGSEGV). Run in a subprocess so a crash fails
# this test instead of the whole suite; 60 checks in 2 threads fail 8 times out of 8 today, and pass with a lock.
RACE = """
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from emo.face import check_photo
from tests import images
photos = [images.astronaut(), np.ascontiguousarray(images.astronaut()[:, ::-1])]
want = [check_photo(p)[1].box for p in photos]
with ThreadPoolExecutor(2) as pool:
    same = list(pool.map(lambda i: check_photo(photos[i % 2])[1].box == want[i % 2], range(60)))
print(f"{sum(same)} of {len(same)} concurrent face checks agree with the sequential ones")
raise SystemExit(0 if all(same) else 1)
"""


def test_face_checks_in_two_threads_agree_and_do_not_crash():
    done = subprocess.run([sys.executable, "-c", RACE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stdout.strip()} {done.stderr.strip()[-300:]}"


def test_eight_clients_each_get_their_own_video(server, users, tmp_path):
    _, status = Client(server.url, verbose=False, download_files=str(tmp_path / "warm")).predict(  # warm up alone
        handle_file(str(users[0][0])), PRESET, handle_file(str(users[0][1])), 0.5, 0, api_name="/generate")
    assert "Done:" in status, status
    warm_peak = server.peak_memory_mb()

    clients = [Client(server.url, verbose=False, download_files=str(tmp_path / f"client{i}")) for i in range(CLIENTS)]
    start = time.monotonic()
    jobs = [client.submit(handle_file(str(photo)), PRESET, handle_file(str(clip)), 0.5, i, api_name="/generate")
            for i, (client, (photo, clip, _, _)) in enumerate(zip(clients, users, strict=True))]
    finished_at: dict[int, float] = {}
    ranks: dict[int, list[int]] = {i: [] for i in range(CLIENTS)}
    while len(finished_at) < CLIENTS and time.monotonic() - start < DEADLINE_S:  # bounded polling
        for i, job in enumerate(jobs):
            if i in finished_at:
                continue
            if job.done():
                finished_at[i] = time.monotonic() - start
                continue
            status = job.status()
            if status.code == Status.IN_QUEUE and status.rank is not None:
                ranks[i].append(status.rank)
        time.sleep(0.05)
    wall = time.monotonic() - start
    assert server.proc.poll() is None, f"the server died (exit {server.proc.returncode}): {server.log_text()[-400:]}"
    assert len(finished_at) == CLIENTS, f"only {len(finished_at)} of {CLIENTS} videos within {DEADLINE_S} s"

    # Everyone gets their own video: its length is their clip's, its first frame is their face.
    portraits = [portrait for *_, portrait in users]
    for i, (job, (photo, _, seconds, _)) in enumerate(zip(jobs, users, strict=True)):
        video, status = job.result(timeout=5)
        assert "Done:" in status, (photo.name, status)
        path = Path(video["video"] if isinstance(video, dict) else video)  # gradio_client versions differ
        assert abs(duration(path) - seconds) <= 1 / 25 + 0.05, (photo.name, duration(path), seconds)
        first = _thumb(decode_frames(path, 512)[0])
        distances = [float(np.abs(first - other).mean()) for other in portraits]
        nearest = sorted(distances)
        assert int(np.argmin(distances)) == i, (photo.name, np.round(distances, 1))
        assert nearest[0] < 0.8 * nearest[1], (photo.name, np.round(distances, 1))  # a clear match, not a tie

    # The queue told waiting users where they stand: positions seen, and they only moved forward.
    waited = [r for r in ranks.values() if r]
    assert waited and max(max(r) for r in waited) >= 2, ranks
    assert all(r == sorted(r, reverse=True) for r in waited), ranks

    # Memory stays bounded: at most two renders run at once, so eight users cost about what two do.
    peak = server.peak_memory_mb()
    latencies = sorted(finished_at.values())
    print(f"\n{CLIENTS} clients: wall {wall:.1f} s, latency min {latencies[0]:.1f} / median {median(latencies):.1f} / "
          f"max {latencies[-1]:.1f} s, server VmHWM {warm_peak:.0f} MiB after one user, {peak:.0f} MiB after "
          f"{CLIENTS}, queue positions seen per client {[[r for r, _ in groupby(seen)] for seen in ranks.values()]}")
    assert peak < 1500 and peak - warm_peak < 300, (warm_peak, peak)
    assert "Traceback" not in server.log_text()
