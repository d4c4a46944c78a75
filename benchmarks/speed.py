"""Speed of the CPU path as a user meets it: whole-process `python -m emo sing`, against ffmpeg alone.

    .venv/bin/python benchmarks/speed.py [--runs 3] [--long-song FILE] [--skip-long]
    .venv/bin/python benchmarks/speed.py --together [--runs 3]

For each clip, `python -m emo sing` runs --runs times in a fresh process (imports, face models, audio analysis,
rendering and encoding: everything a CLI user waits for), and in the same run ffmpeg alone encodes the very frames
that video holds (decoded back to raw RGB beforehand, same encoder settings, same audio): the floor any engine sits
on. Printed: medians, their ratio (target <= 2.5), and the peak memory of the sing process (VmHWM; the 3-minute
song's should stay within 1.25x of the 10 s clip's). Also the app's cold start to a served page.

Clips: a 10 s preset (with its vocal stem), 10 s of a real recording as own audio (the voice is separated), and a
3-minute song as own audio: --long-song, or by default ../shared/data/audio-dev's Caruso recording (voice and
orchestra, 59 s) played three times over (written to a temporary file, never into the repository). Also the face
check of a 1024 px photo in this process, models loaded.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image, ImageOps

from emo.face import check_photo
from emo.ffmpeg import exe as ffmpeg_exe
from emo.group import stage_of
from emo.songs import list_songs
from emo.video import _encoder_args

ROOT = Path(__file__).resolve().parent.parent

DEV = ROOT.parent / "shared" / "data" / "audio-dev"
TOGETHER_PHOTOS = [ROOT / "examples" / "eileen_collins.jpg", ROOT / "examples" / "grace_hopper.jpg",
                   ROOT / "tests" / "data" / "whitehouse_speaking.jpg", ROOT / "examples" / "eileen_collins.jpg"]
SIZE, FPS = 512, 25

PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)
"""


def sing(args: list[str], command: str = "sing") -> tuple[float, float]:
    """(seconds, peak MiB of the largest process) of one `python -m emo sing` (or `together`) in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, sys.executable, "-m", "emo", command, *args], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - start, int(done.stdout.strip()) / 1024


def ffmpeg_alone(video: Path, audio: Path, workdir: Path, start: float, seconds: float,
                 shape: tuple[int, int] = (SIZE, SIZE)) -> float:
    """Seconds ffmpeg takes to encode the frames of `video` (read from a raw file, `shape` (height, width)) with the
    sing encoder's settings."""
    raw = workdir / "frames.rgb"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "rgb24",
                    str(raw)], check=True)
    first = __import__("numpy").zeros((*shape, 3), "uint8")
    args = _encoder_args(workdir / "alone.mp4", first, FPS, seconds, audio, {}, start=start)
    args[args.index("pipe:0")] = f"file:{raw}"
    begin = time.perf_counter()
    subprocess.run([ffmpeg_exe(), *args], check=True)
    elapsed = time.perf_counter() - begin
    raw.unlink()
    return elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_cold_start(timeout: float = 120.0) -> float:
    """Seconds from `python app.py` to the page answering on 127.0.0.1."""
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), EMO_ENGINE="warp",
               GRADIO_ANALYTICS_ENABLED="False")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the app did not answer in time")
    finally:
        proc.terminate()
        proc.wait(10)


def measure(name: str, photo: str, song: str, audio: Path, seconds: float, runs: int, workdir: Path) -> dict:
    out = workdir / "out.mp4"
    args = [photo, song, "-o", str(out), "--engine", "warp", "-q", "--end", f"{seconds:.3f}"]
    sing(args)  # warm the disk cache, as a second user would find it
    timed = [sing(args) for _ in range(runs)]
    alone = [ffmpeg_alone(out, audio, workdir, 0.0, seconds) for _ in range(runs)]
    whole, peak = statistics.median(t for t, _ in timed), max(p for _, p in timed)
    floor = statistics.median(alone)
    print(f"{name:38} whole {whole:6.2f} s (min {min(t for t, _ in timed):.2f})  ffmpeg alone {floor:5.2f} s  "
          f"ratio {whole / floor:4.2f}  peak {peak:4.0f} MiB  ({whole / seconds:.3f} of the clip's length)")
    return {"whole": whole, "alone": floor, "ratio": whole / floor, "peak": peak}


def measure_together(count: int, song, runs: int, workdir: Path) -> dict:
    """Sing together: `count` example photos side by side singing a preset, against ffmpeg alone on that output."""
    photos = [str(p) for p in TOGETHER_PHOTOS[:count]]
    out = workdir / "together.mp4"
    args = [*photos, song.id, "-o", str(out), "-q"]
    sing(args, "together")
    timed = [sing(args, "together") for _ in range(runs)]
    shape = stage_of(photos).image.shape[:2]
    alone = [ffmpeg_alone(out, song.mix, workdir, 0.0, song.duration, shape) for _ in range(runs)]
    whole, floor, peak = statistics.median(t for t, _ in timed), statistics.median(alone), max(p for _, p in timed)
    print(f"together, {count} faces {shape[1]}x{shape[0]}, {song.duration:.1f} s: whole {whole:6.2f} s  "
          f"ffmpeg alone {floor:5.2f} s  ratio {whole / floor:4.2f}  peak {peak:4.0f} MiB")
    return {"whole": whole, "alone": floor, "ratio": whole / floor, "peak": peak}


def photo_check(photo: str, runs: int, workdir: Path) -> float:
    """Median seconds of `check_photo` on a 1024 px photo with the face models already loaded: what checking an
    upload costs once the app is up."""
    big = workdir / "big.jpg"
    ImageOps.fit(Image.open(photo).convert("RGB"), (1024, 1024), Image.LANCZOS).save(big)
    check_photo(big)  # the models load once
    times = []
    for _ in range(max(runs, 5)):
        start = time.perf_counter()
        check_photo(big)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--photo", default=str(ROOT / "examples" / "eileen_collins.jpg"))
    parser.add_argument("--long-song", type=Path, help="an audio file of about 3 minutes (default: see above)")
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--together", action="store_true",
                        help="instead: `python -m emo together` with 2, 3 and 4 photos (target: 2 faces <= 3x)")
    args = parser.parse_args()
    if args.together:
        song = min(list_songs(), key=lambda s: abs(s.duration - 10.0))
        with tempfile.TemporaryDirectory() as tmp:
            for count in (2, 3, 4):
                measure_together(count, song, args.runs, Path(tmp))
        return

    preset = min(list_songs(), key=lambda s: abs(s.duration - 10.0))
    print(f"{args.runs} runs each, {os.cpu_count()} cores, {SIZE}x{SIZE} at {FPS} fps; medians")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        short = measure(f"preset '{preset.id}' {preset.duration:.1f} s", args.photo, preset.id, preset.mix,
                        preset.duration, args.runs, work)
        real = next(DEV.glob("r02_*.ogg"))
        measure("own audio, 10 s of a real song", args.photo, str(real), real, 10.0, args.runs, work)
        if not args.skip_long:
            long_song = args.long_song
            if long_song is None:
                long_song = work / "three-times.flac"
                subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "2", "-i", str(real),
                                "-c:a", "flac", str(long_song)], check=True)
            long = measure("own audio, 3-minute song", args.photo, str(long_song), long_song, 180.0,
                           max(1, args.runs - 1), work)
            print(f"peak memory, 3-minute song over 10 s preset: {long['peak'] / short['peak']:.2f}x")
    with tempfile.TemporaryDirectory() as tmp:
        check = photo_check(args.photo, args.runs, Path(tmp))
    print(f"photo check, 1024 px, models loaded: median {check * 1000:.0f} ms")
    starts = [app_cold_start() for _ in range(args.runs)]
    print(f"app cold start to ready: median {statistics.median(starts):.2f} s (min {min(starts):.2f})")


if __name__ == "__main__":
    main()
