"""Speed of the CPU path as a user meets it, against ffmpeg alone: the served app and the command line.

    .venv/bin/python benchmarks/speed.py [--runs 3] [--long-song FILE] [--skip-long] [--skip-cli]
    .venv/bin/python benchmarks/speed.py --together [--runs 3]

Two ways a video is made, each clip --runs times:
- **served**: `python app.py` started once (its page up, one video made to warm it, as a Space is), then each
  video over plain HTTP as the page asks for it: the own audio uploaded (when chosen, as the page does), then
  the clock runs from posting the job to its event stream bringing the finished video: what a visitor waits for
  once they press the button.
- **cli**: `python -m emo sing` in a fresh process each time: imports, face models and the separator loaded, then
  the same work. What a command-line user waits for.
In the same run ffmpeg alone encodes the very frames each video holds (decoded back to raw RGB beforehand, same
encoder settings, same audio): the floor any engine sits on. Printed: medians, their ratio (target <= 2.5), and
peak memory (VmHWM: of each sing process; of the server after the clip, which includes every clip before it; the
3-minute song's should stay within 1.25x of the 10 s clip's). Also the app's cold start to a served page.

Clips: a 10 s preset (with its vocal stem), 10 s of a real recording as own audio (the voice is separated), and a
3-minute song as own audio: --long-song, or by default ../shared/data/audio-dev's Caruso recording (voice and
orchestra, 59 s) played three times over (written to a temporary file, never into the repository). Also the face
check of a 1024 px photo in this process, models loaded.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

from emo.face import check_photo
from emo.ffmpeg import exe as ffmpeg_exe
from emo.group import stage_of
from emo.songs import list_songs
from emo.video import _encoder_args

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server import file_data, start_app, stop_app  # noqa: E402  (the app driven over raw HTTP, as in tests)

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
    """Seconds ffmpeg takes to encode the frames of `video` (read from a raw RGB file, `shape` (height, width)) with
    the sing encoder's settings."""
    raw = workdir / "frames.rgb"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "rgb24",
                    str(raw)], check=True)
    # From RGB, as frames come from any renderer: ffmpeg converts them to the encoder's YUV itself (the app does
    # that conversion with OpenCV before the pipe, and its time counts in the app's).
    args = _encoder_args(workdir / "alone.mp4", shape, FPS, seconds, audio, {}, start=start, pixels="rgb24")
    args[args.index("pipe:0")] = f"file:{raw}"
    begin = time.perf_counter()
    subprocess.run([ffmpeg_exe(), *args], check=True)
    elapsed = time.perf_counter() - begin
    raw.unlink()
    return elapsed


def app_cold_start(workdir: Path) -> float:
    """Seconds from `python app.py` to its API answering on 127.0.0.1."""
    start = time.perf_counter()
    app = start_app(workdir)
    elapsed = time.perf_counter() - start
    stop_app(app)
    return elapsed


def report(name: str, timed: list[tuple[float, float]], alone: list[float], seconds: float) -> dict:
    whole, peak = statistics.median(t for t, _ in timed), max(p for _, p in timed)
    floor = statistics.median(alone)
    print(f"{name:44} whole {whole:6.2f} s (min {min(t for t, _ in timed):.2f})  ffmpeg alone {floor:5.2f} s  "
          f"ratio {whole / floor:4.2f}  peak {peak:4.0f} MiB  ({whole / seconds:.3f} of the clip's length)", flush=True)
    return {"whole": whole, "alone": floor, "ratio": whole / floor, "peak": peak}


def measure(name: str, photo: str, song: str, audio: Path, seconds: float, runs: int, workdir: Path) -> dict:
    out = workdir / "out.mp4"
    args = [photo, song, "-o", str(out), "--engine", "warp", "-q", "--end", f"{seconds:.3f}"]
    sing(args)  # warm the disk cache, as a second user would find it
    timed = [sing(args) for _ in range(runs)]
    alone = [ffmpeg_alone(out, audio, workdir, 0.0, seconds) for _ in range(runs)]
    return report(f"cli: {name}", timed, alone, seconds)


class Served:
    """app.py on 127.0.0.1, driven over plain HTTP as its page drives it."""

    def __init__(self, photo: str, workdir: Path):
        self.app = start_app(workdir / "served")
        self.photo = self.app.upload("photo.jpg", Path(photo).read_bytes())

    def sing(self, song: str, audio: dict | None, seconds: float) -> tuple[float, Path]:
        """(seconds from pressing the button to the finished video, the video); `audio`: an uploaded own audio."""
        begin = time.perf_counter()
        event, payload = self.app.call([file_data(self.photo), song, audio, 0.5, 0, "", f"{seconds:.3f}"],
                                       timeout=600)
        elapsed = time.perf_counter() - begin
        if event != "complete":
            raise RuntimeError(f"the app answered {event}: {payload[:300]}")
        return elapsed, Path(json.loads(payload)[0]["path"])

    def measure(self, name: str, song: str, own_audio: Path | None, audio: Path, seconds: float, runs: int,
                workdir: Path) -> dict:
        # The page uploads a file as soon as it is chosen: once, before any clock starts.
        uploaded = file_data(self.app.upload(own_audio.name, own_audio.read_bytes())) if own_audio else None
        self.sing(song, uploaded, seconds)  # the first video of a kind loads what it needs (the separator)
        timed = []
        for _ in range(runs):
            elapsed, video = self.sing(song, uploaded, seconds)
            timed.append((elapsed, self.app.peak_memory_mb()))
        alone = [ffmpeg_alone(video, audio, workdir, 0.0, seconds) for _ in range(runs)]
        return report(f"served: {name}", timed, alone, seconds)

    def close(self) -> None:
        stop_app(self.app)


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
    parser.add_argument("--skip-cli", action="store_true", help="only the served app")
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
    real = next(DEV.glob("r02_*.ogg"))
    print(f"{args.runs} runs each, {os.cpu_count()} cores, {SIZE}x{SIZE} at {FPS} fps; medians")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        long_song = args.long_song
        if long_song is None and not args.skip_long:
            long_song = work / "three-times.flac"
            subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "2", "-i", str(real),
                            "-c:a", "flac", str(long_song)], check=True)
        clips = [(f"preset '{preset.id}' {preset.duration:.1f} s", preset.id, None, preset.mix, preset.duration),
                 ("own audio, 10 s of a real song", preset.id, real, real, 10.0)]
        if not args.skip_long:
            clips.append(("own audio, 3-minute song", preset.id, long_song, long_song, 180.0))
        served = Served(args.photo, work)
        try:
            results = [served.measure(name, song, own, audio, seconds, args.runs, work)
                       for name, song, own, audio, seconds in clips]
        finally:
            served.close()
        if not args.skip_long:
            print(f"served peak memory after the 3-minute song over after the 10 s own audio: "
                  f"{results[2]['peak'] / results[1]['peak']:.2f}x")
        if not args.skip_cli:
            cli = [measure(name, args.photo, str(own or song), audio, seconds,
                           max(1, args.runs - 1) if seconds > 60 else args.runs, work)
                   for name, song, own, audio, seconds in clips]
            if not args.skip_long:
                print(f"cli peak memory, 3-minute song over 10 s own audio: {cli[2]['peak'] / cli[1]['peak']:.2f}x, "
                      f"over the 10 s preset: {cli[2]['peak'] / cli[0]['peak']:.2f}x")
    with tempfile.TemporaryDirectory() as tmp:
        check = photo_check(args.photo, args.runs, Path(tmp))
    print(f"photo check, 1024 px, models loaded: median {check * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        starts = [app_cold_start(Path(tmp) / str(i)) for i in range(args.runs)]
    print(f"app cold start to ready: median {statistics.median(starts):.2f} s (min {min(starts):.2f})")


if __name__ == "__main__":
    main()
