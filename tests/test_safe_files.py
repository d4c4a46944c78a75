"""Safe files: the served app hands out its own assets, examples and outputs, and nothing else.

Also: what a request names is checked before it is used (preset ids, file paths posing as uploads), and uploads are
limited in size. Everything runs against app.py served on 127.0.0.1, except the handler-level preset-id checks.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid

import pytest
from gradio_client import Client, handle_file

import emo
from emo.audio import ffmpeg_exe

from .conftest import ROOT
from .server import files_under, start_app, stop_app

SONG = emo.list_songs()[0]
EXAMPLE = ROOT / "examples" / "grace_hopper.jpg"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _client_temp_dir(tmp_path, monkeypatch):
    """gradio_client leaves an empty folder in the temp directory per download: keep them in this test's tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = start_app(tmp_path_factory.mktemp("safe-files"))
    yield app
    stop_app(app)


# ---------------------------------------------------------------------------------------------- what is served

@pytest.mark.parametrize("path", [
    "/etc/passwd",
    "%2Fetc%2Fpasswd",  # the same, URL-encoded
    "/proc/self/environ",  # the server's environment: where tokens live on a Space
    f"{ROOT}/app.py",
    "app.py",  # relative to the server's working directory, the repository
    f"{ROOT}/.git/config",
    f"{ROOT}/emo/pipeline.py",
    f"{ROOT}/requirements.txt",
    f"{ROOT}/tests/server.py",
    f"{ROOT}/.venv/pyvenv.cfg",
    f"{ROOT}/assets/songs/../../app.py",  # climbing out of an allowed folder
    "examples/../app.py",
    f"{ROOT}/examples/%2E%2E/app.py",
])
def test_files_outside_the_apps_own_are_refused(server, path):
    status, body = server.get(f"gradio_api/file={path}")
    assert status in (403, 404), (status, body[:200])
    assert b"root:" not in body and b"import" not in body and b"[core]" not in body


@pytest.mark.parametrize("path", ["static/../app.py", "assets/../app.py", "gradio_api/static/../../app.py"])
def test_static_routes_do_not_climb_out(server, path):
    status, body = server.get(path)
    assert status in (403, 404), (status, body[:200])


def test_own_assets_examples_and_outputs_are_served(server, tmp_path):
    for path in (SONG.mix, EXAMPLE, f"examples/{EXAMPLE.name}"):
        status, body = server.get(f"gradio_api/file={path}")
        assert status == 200 and len(body) > 10_000, (path, status)
    # An output: generated for this client and fetched from the URL the API gives back.
    client = Client(server.url, verbose=False, download_files=False)
    video, message = client.predict(handle_file(str(EXAMPLE)), SONG.id, None, 0.5, 0, api_name="/generate")
    assert message.startswith("Done:"), message
    url = (video["video"] if "video" in video else video)["url"]
    assert url.startswith(server.url)
    status, body = server.get(url[len(server.url):])
    assert status == 200 and body[4:8] == b"ftyp", status


# ------------------------------------------------------------------------------------ preset ids and file paths

BAD_IDS = [
    "../../etc/passwd",
    "/etc/passwd",
    f"{SONG.id}/../../../app",
    "",
    "x" * 5000,
    f"{ROOT}/app.py",  # an existing file on the server
    str(SONG.mix),  # an existing *audio* file on the server
    f"assets/songs/{SONG.id}/vocals.flac",  # the same, relative to the working directory
    f"{SONG.id}/../../../app.py",
]


@pytest.mark.parametrize("song_id", BAD_IDS, ids=[i[:40] or "empty" for i in BAD_IDS])
def test_the_api_accepts_only_listed_preset_ids(server, song_id):
    """Gradio's dropdown refuses any value that is not one of its choices, before the handler runs."""
    before = files_under(server.output_dir)
    client = Client(server.url, verbose=False, download_files=False)
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict(handle_file(str(EXAMPLE)), song_id, None, 0.5, 0, api_name="/generate")
    assert files_under(server.output_dir) == before


# The handler itself also refuses anything but a preset id: the API could send a server path as a song.
@pytest.mark.parametrize("song_id", BAD_IDS,
                         ids=[i[:40] or "empty" for i in BAD_IDS])
def test_the_handler_accepts_only_preset_ids(song_id, tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT))
    import app
    from emo import outputs

    monkeypatch.setattr(outputs, "OUTPUT_DIR", tmp_path / "outputs")
    video, message = app.generate(str(EXAMPLE), song_id, None, 0.5, 0, progress=lambda *args, **kwargs: None)
    assert video is None and "Unknown song" in message, message
    assert files_under(tmp_path / "outputs") == []


def _call(server, data: list, timeout: float = 60) -> tuple[str, str]:
    """Gradio's plain HTTP API, no client: POST the inputs, then read the event stream (bounded) to its end.

    Returns (last event name, its data). Used where gradio_client would upload a local file instead of sending a path.
    """
    request = urllib.request.Request(server.url + "gradio_api/call/generate", method="POST",
                                     data=json.dumps({"data": data}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        event_id = json.load(response)["event_id"]
    event = payload = ""
    with urllib.request.urlopen(f"{server.url}gradio_api/call/generate/{event_id}", timeout=timeout) as stream:
        for line in stream:  # ends when the server closes the stream
            line = line.decode().strip()
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                payload = line.split(":", 1)[1].strip()
    return event, payload


def _file(path) -> dict:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


@pytest.mark.parametrize("photo, own_audio", [
    (_file("/etc/passwd"), None),
    (_file(EXAMPLE), None),  # an allowed file, but not an upload
    (_file(EXAMPLE), _file(SONG.mix)),  # the same for the own-audio input
    (_file(EXAMPLE), _file("/etc/passwd")),
    (_file(f"{ROOT}/app.py"), None),
])
def test_inputs_must_be_uploads_not_server_paths(server, photo, own_audio):
    """A request that names a file on the server instead of uploading one is refused before the handler runs."""
    before, refusals = files_under(server.output_dir), server.log_text().count("it was not uploaded by a user")
    event, payload = _call(server, [photo, SONG.id, own_audio, 0.5, 0])
    assert event == "error", (event, payload[:300])
    assert server.log_text().count("it was not uploaded by a user") == refusals + 1  # refused for that reason
    assert "root:" not in payload and "import" not in payload
    assert files_under(server.output_dir) == before


# ----------------------------------------------------------------------------------------------------- uploads

def _upload(server, size: int, timeout: float = 60) -> int:
    """POST one file of `size` bytes to Gradio's upload route; the HTTP status."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"song.wav\"\r\n"
            f"Content-Type: audio/wav\r\n\r\n").encode() + bytes(size) + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(server.url + "gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_uploads_over_the_size_limit_are_refused_and_not_kept(server):
    limit = json.loads(server.get("config")[1])["max_file_size"]  # bytes, from launch(max_file_size=...)
    assert limit and limit <= 100 * MB, limit  # a limit is set, and a sane one (the app's default is 25 MB)
    assert _upload(server, limit - MB) == 200
    kept = files_under(server.upload_dir) + files_under(server.temp_dir)
    assert _upload(server, limit + MB) == 413
    assert files_under(server.upload_dir) + files_under(server.temp_dir) == kept  # nothing of it left behind


# Gradio serves a returned file only from the working directory, the temp directory or launch(allowed_paths=...):
# an output folder elsewhere (a Space's persistent disk, say) must be among the allowed paths.
def test_an_output_folder_outside_the_temp_dir_works(tmp_path):
    outputs = tmp_path / "persistent" / "outputs"  # not under this server's TMPDIR (tmp_path/server/tmp)
    app = start_app(tmp_path / "server", EMO_OUTPUT_DIR=str(outputs))
    try:
        clip = tmp_path / "clip.wav"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=f=300:d=1.2", str(clip)], check=True)
        client = Client(app.url, verbose=False, download_files=str(tmp_path / "downloads"))
        _, message = client.predict(handle_file(str(EXAMPLE)), SONG.id, handle_file(str(clip)), 0.5, 0,
                                    api_name="/generate")
        assert message.startswith("Done:"), message
    finally:
        stop_app(app)
