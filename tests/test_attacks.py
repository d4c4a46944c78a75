"""Attacks on the served app, as an outsider would make them: raw HTTP to 127.0.0.1, no friendly client.

Every attack must be refused quickly (within 2 s) with a sentence, read no file outside the uploads (watched with
inotify), show no traceback or server path, keep memory bounded (VmHWM) and leave no child process behind.
A bounded fuzz of the call endpoint (hypothesis, a fixed number of cases) holds every answer to the same rules.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from PIL import Image

import emo
from emo import serve
from emo.ffmpeg import exe as ffmpeg_exe
from emo.messages import Message

from . import images
from .conftest import ROOT
from .server import file_data, files_under, start_app, stop_app

pytestmark = pytest.mark.slow  # every attack goes to a served app

PRESET = emo.list_songs()[0].id
EXAMPLE = ROOT / "examples" / "grace_hopper.jpg"
REFUSAL_S = 2.0
MB = 1024 * 1024


# ------------------------------------------------------------------------------------------------------ helpers

class OpenWatch:
    """Linux inotify on one folder: was any file in it (or the folder itself) opened or read since the last look?"""

    IN_ACCESS, IN_OPEN = 0x001, 0x020

    def __init__(self, folder: Path):
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK)
        assert self._fd >= 0 and self._libc.inotify_add_watch(self._fd, str(folder).encode(),
                                                               self.IN_ACCESS | self.IN_OPEN) >= 0

    def touched(self) -> bool:
        try:
            return bool(os.read(self._fd, 65536))
        except BlockingIOError:  # nothing happened
            return False

    def close(self) -> None:
        os.close(self._fd)


def leaks(text: str, server) -> list[str]:
    """What a response must never show: tracebacks, source lines, server paths."""
    marks = ["Traceback", 'File "', str(ROOT), str(server.scratch), "/etc/", "/proc/", "site-packages"]
    return [mark for mark in marks if mark in text]


def message(event: str, payload: str) -> str:
    """The sentence a refused call shows: Gradio's error event, or our handler's status with no video."""
    if event == "error":  # Gradio's error event: {"error": sentence or null (a bare "Error"), ...}
        answer = json.loads(payload) if payload.startswith(("{", '"')) else payload
        return (answer.get("error") or "") if isinstance(answer, dict) else answer
    if event == "complete":
        video, status = json.loads(payload)
        return "" if video else status
    return payload


def timed_call(server, data, **kwargs) -> tuple[str, str, float]:
    start = time.monotonic()
    event, payload = server.call(data, **kwargs)
    return event, payload, time.monotonic() - start


def _clip(path: Path, seconds: float, freq: int = 300) -> Path:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=f={freq}:d={seconds}", str(path)],
                   check=True)
    return path


@pytest.fixture(scope="module")
def secret(server):
    """Files on the server outside the uploads: a readable photo and song an attacker would like the app to use."""
    folder = server.scratch / "secret"
    folder.mkdir()
    (folder / "face.jpg").write_bytes(EXAMPLE.read_bytes())
    _clip(folder / "song.wav", 3, freq=1234)
    (folder / "big.bin").write_bytes(bytes(30 * MB))  # over the upload limit
    return folder


@pytest.fixture(scope="module")
def uploads(server, tmp_path_factory):
    """A real upload of a photo and of a 1.2 s clip, for calls that need one good input."""
    clip = _clip(tmp_path_factory.mktemp("clip") / "clip.wav", 1.2)
    return {"photo": server.upload("photo.jpg", EXAMPLE.read_bytes()), "audio": server.upload("clip.wav", clip.read_bytes())}


@pytest.fixture(autouse=True)
def _no_children_left(request):
    """After every attack: nothing the server started is still running (waits up to 2 s for it to end)."""
    yield
    if "server" not in request.fixturenames:
        return
    app = request.getfixturevalue("server")
    deadline = time.monotonic() + 2
    while app.children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app.children() == [], f"children left: {app.children()}"


# ---------------------------------------------------------------------------------------- 1. only uploads are read

class Probe(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        Probe.hits += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(images.jpeg())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def outside_url():
    """An HTTP server the app must never fetch from (server-side request forgery)."""
    httpd = HTTPServer(("127.0.0.1", 0), Probe)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/face.jpg"
    httpd.shutdown()


def _paths(secret, server, outside_url) -> dict[str, str]:
    return {
        "existing photo": str(secret / "face.jpg"),
        "missing photo": str(secret / "nothing-here.jpg"),
        "existing song": str(secret / "song.wav"),
        "file over the upload limit": str(secret / "big.bin"),
        "climbing out of the uploads": f"{server.upload_dir}/../secret/face.jpg",
        "the uploads folder itself": str(server.upload_dir),
        "relative to the app": "examples/../app.py",
        "system file": "/etc/passwd",
        "NUL byte": f"{server.upload_dir}/x\x00.jpg",  # found by the fuzz below: realpath() raised
        "url": outside_url,
    }


@pytest.mark.parametrize("slot", ["photo", "own audio"])
@pytest.mark.parametrize("meta", [True, False], ids=["with meta", "without meta"])
def test_only_uploads_are_read(server, secret, uploads, outside_url, slot, meta):
    watch = OpenWatch(secret)
    answers = {}
    try:
        for name, path in _paths(secret, server, outside_url).items():
            named = file_data(path) if meta else {"path": path}
            data = ([named, PRESET, None, 0.5, 0, "", ""] if slot == "photo"
                    else [file_data(uploads["photo"]), PRESET, named, 0.5, 0, "", ""])
            before = files_under(server.output_dir)
            event, payload, seconds = timed_call(server, data)
            answers[name] = message(event, payload)
            assert event == "error" and answers[name] == serve.NOT_UPLOADED, (name, event, payload[:300])
            assert seconds < REFUSAL_S, (name, seconds)
            assert not leaks(payload, server), (name, payload[:300])
            assert files_under(server.output_dir) == before, name
            assert not watch.touched(), f"{name}: a file outside the uploads was opened"
    finally:
        watch.close()
    assert Probe.hits == 0, "the app fetched a URL it was given"
    assert len(set(answers.values())) == 1  # existing or not, inside or outside: the same answer


@pytest.mark.parametrize("value", [123, "photo.jpg", ["/etc/passwd"], {"url": "http://127.0.0.1:1/x"}, {"path": 5}])
def test_file_inputs_must_be_uploads(server, value):
    event, payload, seconds = timed_call(server, [value, PRESET, None, 0.5, 0, "", ""])
    assert event == "error" and seconds < REFUSAL_S, (event, payload[:300])
    assert message(event, payload) in (serve.not_a_file("photo"), serve.NOT_UPLOADED), payload
    assert not leaks(payload, server)


def test_the_apps_own_files_are_not_inputs_either(server):
    """The example photos are served to the page, but an input names only uploads (Gradio copies the examples into
    its upload folder, and the page's example buttons name those copies: tests/test_browser.py clicks one)."""
    for path in (EXAMPLE, emo.list_songs()[0].mix):
        event, payload = server.call([file_data(EXAMPLE), PRESET, file_data(path), 0.5, 0, "", ""])
        assert event == "error" and message(event, payload) == serve.NOT_UPLOADED, payload[:300]


# --------------------------------------------------------------------------- 2. audio containers by allow-list

def _playlists(secret: Path) -> dict[str, bytes]:
    song = secret / "song.wav"
    return {
        "HLS playlist, ended": f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\nfile:{song}\n#EXT-X-ENDLIST\n".encode(),
        "HLS playlist, live": f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\nfile:{song}\n".encode(),
        "concat script": f"ffconcat version 1.0\nfile '{song}'\n".encode(),
        "SDP session": b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 5004 RTP/AVP 0\n",
        "AVI (RIFF, not WAVE)": b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(64),
    }


@pytest.mark.parametrize("name", list(_playlists(Path("/x"))))
@pytest.mark.parametrize("suffix", [".m3u8", ".mp3"])
def test_playlists_and_scripts_are_not_audio(server, secret, uploads, name, suffix):
    upload = server.upload(f"song{suffix}", _playlists(secret)[name])
    watch = OpenWatch(secret)
    try:
        event, payload, seconds = timed_call(server, [file_data(uploads["photo"]), PRESET, file_data(upload), 0.5, 0, "", ""])
        assert event == "complete" and "could not be read as audio" in message(event, payload), payload[:300]
        assert seconds < REFUSAL_S, seconds
        assert not watch.touched(), "ffmpeg followed the playlist to a file outside the uploads"
    finally:
        watch.close()
    assert not leaks(payload, server)


def test_real_audio_is_judged_by_its_bytes_not_its_name(server, uploads, tmp_path):
    """A wav named .mp3 (and a webm, as browsers record) is sung, not refused."""
    for name, args in (("song.mp3", ["-c:a", "pcm_s16le", "-f", "wav"]), ("voice.webm", ["-c:a", "libopus"])):
        clip = tmp_path / name
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=300:d=1.2", *args, str(clip)],
                       check=True)
        upload = server.upload(name, clip.read_bytes())
        event, payload = server.call([file_data(uploads["photo"]), PRESET, file_data(upload), 0.5, 0, "", ""])
        assert event == "complete" and json.loads(payload)[0], (name, payload[:300])


# -------------------------------------------------------------------- 4. images by allow-list, bounded memory

def _sixty_megapixels() -> dict[str, tuple[str, bytes]]:
    """(file name, bytes) of images that decode to about 60 MP, each small on disk (flat colour compresses)."""
    size = (10000, 6000)
    flat = {"RGBA": (90, 120, 150, 200), "RGB": (90, 120, 150), "L": 120, "CMYK": (10, 20, 30, 0), "P": 3}
    made = {}
    for mode, name, fmt, params in (
            ("RGBA", "rgba.png", "PNG", {}),
            ("RGB", "progressive.jpg", "JPEG", {"progressive": True, "quality": 90}),
            ("CMYK", "cmyk.jpg", "JPEG", {"quality": 90}),
            ("RGB", "rgb.tif", "TIFF", {"compression": "tiff_deflate"}),
            ("P", "palette.gif", "GIF", {}),
            ("L", "grey16.png", "PNG", {})):
        image = Image.new(mode, size, flat[mode])
        if name == "grey16.png":
            image = image.convert("I;16")
        if mode == "P":
            image.info["transparency"] = 0
        made[name] = (name, images.encode(image, fmt, **params))
        del image
    return made


def test_sixty_megapixel_images_stay_within_memory(tmp_path):
    app = start_app(tmp_path / "server")
    try:
        photo = app.upload("photo.jpg", EXAMPLE.read_bytes())
        assert app.call([file_data(photo), PRESET, None, 0.5, 0, "", ""])[0] == "complete"  # warm: models loaded
        baseline = app.peak_memory_mb()
        for name, data in _sixty_megapixels().values():
            assert len(data) < 25 * MB, (name, len(data))
            upload = app.upload(name, data)
            event, payload, seconds = timed_call(app, [file_data(upload), PRESET, None, 0.5, 0, "", ""])
            assert "could not find a face" in message(event, payload), (name, payload[:300])
            assert not leaks(payload, app)
            print(f"\n{name}: {len(data) / 1024:.0f} kB on disk, answered in {seconds:.1f} s, "
                  f"VmHWM {app.peak_memory_mb():.0f} MiB (baseline {baseline:.0f})")
        assert app.peak_memory_mb() - baseline <= 400, (baseline, app.peak_memory_mb())
        # WebP has its own bound (see emo.photo.MAX_MEGAPIXELS_OF): a 20 MP one is the worst accepted.
        webp = app.upload("rgba.webp", images.encode(Image.new("RGBA", (5000, 4000), (9, 9, 9, 99)), "WEBP",
                                                     lossless=True))
        assert "could not find a face" in message(*app.call([file_data(webp), PRESET, None, 0.5, 0, "", ""]))
        too_big = app.upload("big.webp", images.encode(Image.new("RGB", (6000, 4000)), "WEBP", lossless=True))
        assert "at most 20 megapixels" in message(*app.call([file_data(too_big), PRESET, None, 0.5, 0, "", ""]))
        print(f"\nrgba.webp (20 MP): VmHWM {app.peak_memory_mb():.0f} MiB (baseline {baseline:.0f})")
        assert app.peak_memory_mb() - baseline <= 400, (baseline, app.peak_memory_mb())
    finally:
        stop_app(app)


def test_other_image_formats_are_not_opened(server):
    """Pillow reads dozens of formats, some through outside programs (EPS runs Ghostscript): only photos are opened."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 600 600\nshowpage\n"
    for name, data in (("photo.eps", eps), ("photo.ico", images.encode(images.astronaut()[:256, :256], "ICO")),
                       ("photo.tga", images.encode(images.astronaut(), "TGA")),
                       ("photo.pcx", images.encode(images.astronaut(), "PCX"))):
        upload = server.upload(name, data)
        event, payload, seconds = timed_call(server, [file_data(upload), PRESET, None, 0.5, 0, "", ""])
        assert "not an image we can read" in message(event, payload), (name, payload[:300])
        assert seconds < REFUSAL_S


# ------------------------------------------------------------------------------------------ 5. request limits

def _raw(server, head: str, chunks, read_after: int = 0) -> tuple[bytes, int, float]:
    """Send a request head then body chunks over a raw socket, stopping when the server answers.

    Returns (the answer, bytes of body sent, seconds until the answer).
    """
    host, port = server.url.split("//")[1].strip("/").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sent, start = 0, time.monotonic()
    try:
        sock.sendall(head.encode())
        sock.setblocking(False)
        answer = b""
        for chunk in chunks:
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            if answer:
                break
            try:
                sock.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.setblocking(True)
        sock.settimeout(5)
        try:
            while b"\r\n\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except (TimeoutError, ConnectionResetError):
            pass
        return answer, sent, time.monotonic() - start
    finally:
        sock.close()


def test_a_huge_json_body_is_refused_before_it_is_read(server):
    before = server.peak_memory_mb()
    size = 150 * MB
    chunks = (b"[" * 65536 for _ in range(size // 65536))
    head = (f"POST /gradio_api/call/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n")
    answer, sent, seconds = _raw(server, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 * MB and seconds < REFUSAL_S, (sent, seconds)
    # The same without a length (chunked): counted as it arrives, refused at the bound.
    chunks = (b"10000\r\n" + b"[" * 65536 + b"\r\n" for _ in range(size // 65536))
    head = ("POST /gradio_api/call/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    answer, sent, seconds = _raw(server, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 * MB and seconds < REFUSAL_S, (sent, seconds)
    assert server.peak_memory_mb() - before < 50, (before, server.peak_memory_mb())
    assert server.get("gradio_api/info")[0] == 200  # still serving


def test_a_body_just_under_the_bound_is_still_read(server):
    """A request of 0.9 MB (a long junk string) gets a sentence, not a 413: the bound is on size, not on content."""
    event, payload = server.call(["x" * 900_000, PRESET, None, 0.5, 0, "", ""])
    assert event == "error" and message(event, payload) == serve.not_a_file("photo"), payload[:200]


def test_deep_nesting_does_not_break_the_server(server):
    nested = "[" * 200_000 + "]" * 200_000
    status, answer = server.post("gradio_api/call/generate", f'{{"data": {nested}}}'.encode(), "application/json")
    assert status in (400, 413, 422, 500), status
    assert not leaks(answer.decode(errors="replace"), server)
    assert server.get("gradio_api/info")[0] == 200


NAN = float("nan")
BAD_VALUES = [
    # (input index, value, what the answer says)
    (4, -1, "seed must be a whole number"), (4, 2**31, "seed must be a whole number"),
    (4, 1.5, "seed must be a whole number"), (4, "abc", "seed must be a whole number"),
    (4, None, "seed must be a whole number"), (4, True, "seed must be a whole number"),
    (4, NAN, "seed must be a whole number"), (4, math.inf, "seed must be a whole number"),
    (4, [1], "seed must be a whole number"), (4, {"a": 1}, "seed must be a whole number"),
    (3, -0.1, "Head motion must be a number"), (3, 1.5, "Head motion must be a number"),
    (3, "x", "Head motion must be a number"), (3, None, "Head motion must be a number"),
    (3, NAN, "Head motion must be a number"),
    (1, "no-such-song", "Unknown song"), (1, 5, "Unknown song"), (1, None, "Unknown song"),
    (1, ["a"], "Unknown song"), (1, "../../app.py", "Unknown song"), (1, str(ROOT / "app.py"), "Unknown song"),
    (5, "-3", "start must be a time"), (5, "abc", "start must be a time"), (5, 1e300, "start must be a time"),
    (5, [1], "start must be a time"), (6, "1:75", "end must be a time"), (6, NAN, "end must be a time"),
    (5, "0:05", "end (1 s) must come after the start (5 s)"),
    (5, "9:00", "start (9:00) is after the end of the audio"),
]


@pytest.mark.parametrize("index, value, expected", BAD_VALUES, ids=[f"{i}-{v!r}"[:30] for i, v, _ in BAD_VALUES])
def test_typed_values_get_a_sentence(server, uploads, index, value, expected):
    data = [file_data(uploads["photo"]), PRESET, None, 0.5, 0, "", ""]
    data[index] = value
    if (index, value) == (5, "0:05"):
        data[6] = "1"
    before = files_under(server.output_dir)
    event, payload, seconds = timed_call(server, data)
    assert expected in message(event, payload), (event, payload[:300])
    assert seconds < REFUSAL_S and not leaks(payload, server)
    assert files_under(server.output_dir) == before


def test_song_card_refuses_unknown_ids(server):
    event, payload = server.call(["../../etc/passwd"], api="song_card")
    assert event == "error" and "Unknown song" in message(event, payload), payload[:300]


def test_refusals_come_in_the_visitors_language(server, uploads):
    """A call from no page answers in the browser's languages; the guard's refusals too."""
    headers = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    event, payload = server.call([file_data(uploads["photo"]), PRESET, None, 0.5, -1, "", ""], headers=headers)
    refused = "⚠️ " + Message("options.seed", most=2**31 - 1, got="-1").text("zh")
    assert message(event, payload) == refused, payload[:300]
    event, payload = server.call([{"path": "/etc/hostname"}, PRESET, None, 0.5, 0, "", ""], headers=headers)
    assert event == "error" and message(event, payload) == serve.NOT_UPLOADED.text("zh"), payload[:300]


@pytest.mark.parametrize("values", [["zh", PRESET, PRESET], [["zh"], PRESET, PRESET], [None, 5, None],
                                    ["x" * 50_000, "../../etc/passwd", PRESET], [{"path": "/etc/passwd"}, PRESET]])
def test_the_language_switch_takes_no_harm(server, values):
    """The switch's event relabels the page from a language and the two song pickers; anything else it is sent
    gets the page in English or a sentence, never a traceback or a file."""
    event, payload = server.call(values, api="relabel")
    assert event in ("complete", "error") and not leaks(payload, server), payload[:300]
    if event == "error":
        assert message(event, payload), payload[:300]


# ---------------------------------------------------------------------------------- 6. abandoned work stops

def test_a_job_whose_user_left_stops_and_the_queue_goes_on(server, uploads, tmp_path):
    clip = server.upload("long.wav", _clip(tmp_path / "long.wav", 29).read_bytes())
    status, answer = server.post("gradio_api/call/generate", json.dumps(
        {"data": [file_data(uploads["photo"]), PRESET, file_data(clip), 0.5, 0, "", ""]}).encode(), "application/json")
    event_id = json.loads(answer)["event_id"]
    host, port = server.url.split("//")[1].strip("/").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(f"GET /gradio_api/call/generate/{event_id} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    deadline = time.monotonic() + 30
    while not list(server.output_dir.glob(".*.partial.mp4")) and time.monotonic() < deadline:
        time.sleep(0.05)  # rendering has started: the encoder is writing
    assert list(server.output_dir.glob(".*.partial.mp4")), "the job never started"
    stops = server.log_text().count("job stopped: its user left")
    sock.close()  # the user leaves
    left = time.monotonic()
    while (server.children() or list(server.output_dir.glob(".*"))) and time.monotonic() - left < 5:
        time.sleep(0.05)
    stopped_after = time.monotonic() - left
    assert server.children() == [] and not list(server.output_dir.glob(".*")), "the job went on after its user left"
    assert stopped_after < 2, stopped_after
    assert server.log_text().count("job stopped: its user left") == stops + 1
    assert not [p for p in files_under(server.output_dir) if p.stat().st_mtime > left - 30 and "long" in p.name]
    event, payload = server.call([file_data(uploads["photo"]), PRESET, file_data(uploads["audio"]), 0.5, 0, "", ""])
    assert event == "complete" and json.loads(payload)[0], payload[:300]  # the next user is served


# -------------------------------------------------------------------------- 7. operators, storage and headers

def test_each_video_is_stored_once(tmp_path):
    app = start_app(tmp_path / "server")
    try:
        photo = app.upload("photo.jpg", EXAMPLE.read_bytes())
        event, payload = app.call([file_data(photo), PRESET, None, 0.5, 0, "", ""])
        assert event == "complete", payload[:300]
        videos = [p for p in files_under(app.scratch) if p.suffix == ".mp4"]
        assert len(videos) == 1, videos
        url = json.loads(payload)[0]["url"]
        status, body = app.get(url[len(app.url):])
        assert status == 200 and body == videos[0].read_bytes()
    finally:
        stop_app(app)


def test_served_files_say_nosniff(server):
    for path in ("", "config", f"gradio_api/file={EXAMPLE}", "gradio_api/info"):
        request_headers = {}
        import urllib.request

        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            request_headers = dict(response.headers)
        assert request_headers.get("x-content-type-options", request_headers.get("X-Content-Type-Options")) \
            == "nosniff", path


def test_an_uploaded_page_is_not_served_as_a_page(server):
    upload = server.upload("page.html", b"<html><script>alert(document.cookie)</script></html>")
    status, _ = server.get(f"gradio_api/file={upload}")
    import urllib.request

    with urllib.request.urlopen(f"{server.url}gradio_api/file={upload}", timeout=10) as response:
        kind, disposition = response.headers.get("content-type", ""), response.headers.get("content-disposition", "")
    assert status == 200 and ("html" not in kind or "attachment" in disposition), (kind, disposition)


def test_upload_names_cannot_climb_out(server):
    path = server.upload("../../../escaped.jpg", EXAMPLE.read_bytes())
    assert Path(path).resolve().is_relative_to(server.upload_dir.resolve()), path
    assert not [p for p in files_under(server.scratch) if p.name == "escaped.jpg"
                and not p.resolve().is_relative_to(server.upload_dir.resolve())]


@pytest.mark.parametrize("env, says", [
    ({"GRADIO_TEMP_DIR": "/dev/null/uploads"}, "cannot be written to"),
    ({"EMO_CONCURRENCY": "lots"}, "EMO_CONCURRENCY='lots' is not a whole number"),
    ({"EMO_MAX_UPLOAD": "huge"}, "EMO_MAX_UPLOAD='huge' is not a size"),
])
def test_operator_mistakes_stop_the_app_with_a_sentence(tmp_path, env, says):
    done = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "GRADIO_SERVER_PORT": "1", "EMO_ENGINE": "warp",
                                            "GRADIO_TEMP_DIR": str(tmp_path), **env})
    assert done.returncode != 0 and says in done.stderr, done.stderr[-500:]
    assert "Traceback" not in done.stderr


def test_missing_assets_stop_the_app_with_a_sentence(tmp_path):
    with pytest.raises(SystemExit, match="The app's own files are missing: .*song.flac"):
        serve.check_setup(tmp_path / "outputs", [EXAMPLE, tmp_path / "song.flac"])


# ------------------------------------------------------------------------------------------------------- fuzz

_text = st.text(max_size=40) | st.sampled_from(["", "..", "/etc/passwd", "%2e%2e/", "http://127.0.0.1:1/x",
                                                 "file:///etc/passwd", "\x00", "examples/../app.py"])
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | _text,
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
                     max_leaves=12)
_file = st.none() | _json | st.builds(lambda p, m: {"path": p, **({"meta": {"_type": "gradio.FileData"}} if m else {})},
                                      _text, st.booleans())


@pytest.fixture(scope="module")
def fuzz_files(uploads):
    return uploads


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@seed(20261201)
@given(photo=_file | st.just("UPLOADED"), song=_json | st.sampled_from([PRESET, "x"]), audio=_file,
       motion=_json | st.floats(0, 1), seed_value=_json | st.integers(0, 10), start=_json, end=_json,
       extra=st.lists(_json, max_size=2), cut=st.booleans())
def test_fuzz_the_call_endpoint(server, fuzz_files, photo, song, audio, motion, seed_value, start, end, extra, cut):
    if photo == "UPLOADED":
        photo = file_data(fuzz_files["photo"])
    data = [photo, song, audio, motion, seed_value, start, end, *extra]
    if cut:
        data = data[:3]  # too few inputs
    failures = server.log_text().count("request failed")
    event, payload, seconds = timed_call(server, data, timeout=60)
    assert event in ("complete", "error") or event.startswith("http 4"), (event, payload[:300])
    assert not leaks(payload, server), payload[:300]
    assert seconds < 30, seconds
    if event == "error" and not cut:
        assert server.log_text().count("request failed") == failures, f"no sentence for {data!r}"[:400]
    assert server.proc.poll() is None
