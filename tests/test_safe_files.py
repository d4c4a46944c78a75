"""Safe files: the served app hands out its own assets, examples and outputs, and nothing else.

Also: what a request names is checked before it is used (preset ids, file paths posing as uploads), and uploads are
limited in size. Everything runs against app.py served on 127.0.0.1, except the handler-level preset-id checks.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from gradio_client import Client, handle_file

import emo
from emo import serve

from .conftest import ROOT, answer
from .server import file_data, files_under

SONG = emo.list_songs()[0]
EXAMPLE = ROOT / "examples" / "grace_hopper.jpg"
MB = 1024 * 1024

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("client_temp_dir")]  # asks a served app


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
    """Any value that is not one of the picker's choices is refused with a sentence, and nothing is made."""
    before = files_under(server.output_dir)
    client = Client(server.url, verbose=False, download_files=False)
    _, message = client.predict(handle_file(str(EXAMPLE)), song_id, None, 0.5, 0, api_name="/generate")
    assert message.startswith("⚠️ Unknown song"), message
    assert files_under(server.output_dir) == before


# The handler itself also refuses anything but a preset id: the API could send a server path as a song.
@pytest.mark.parametrize("song_id", BAD_IDS,
                         ids=[i[:40] or "empty" for i in BAD_IDS])
def test_the_handler_accepts_only_preset_ids(song_id, app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "OUTPUTS", tmp_path / "outputs")
    video, message = answer(app, str(EXAMPLE), song_id, None, 0.5, 0)
    assert video is None and "Unknown song" in message, message
    assert files_under(tmp_path / "outputs") == []


@pytest.mark.parametrize("photo, own_audio", [
    (file_data("/etc/passwd"), None),
    (file_data(EXAMPLE), None),  # an allowed file, but not an upload
    (file_data(EXAMPLE), file_data(SONG.mix)),  # the same for the own-audio input
    (file_data(EXAMPLE), file_data("/etc/passwd")),
    (file_data(f"{ROOT}/app.py"), None),
])
def test_inputs_must_be_uploads_not_server_paths(server, photo, own_audio):
    """A request that names a file on the server instead of uploading one is refused before Gradio reads it
    (tests/test_attacks.py tries many more ways)."""
    before = files_under(server.output_dir)
    event, payload = server.call([photo, SONG.id, own_audio, 0.5, 0, "", ""])
    assert event == "error" and serve.NOT_UPLOADED in payload, (event, payload[:300])
    assert "root:" not in payload and "import" not in payload
    assert files_under(server.output_dir) == before


# ----------------------------------------------------------------------------------------------------- uploads

def _upload(server, size: int, timeout: float = 60) -> int | str:
    """POST one file of `size` bytes to Gradio's upload route; the HTTP status, or "cut" when the server answered
    and closed the connection before taking the whole body (as it does for a body over its bound)."""
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
    except (urllib.error.URLError, ConnectionError) as err:
        assert isinstance(getattr(err, "reason", err), ConnectionError), err
        return "cut"


def test_uploads_over_the_size_limit_are_refused_and_not_kept(server):
    limit = json.loads(server.get("config")[1])["max_file_size"]  # bytes, from launch(max_file_size=...)
    assert limit and limit <= 100 * MB, limit  # a limit is set, and a sane one (the app's default is 25 MB)
    assert _upload(server, limit - MB) == 200
    kept = files_under(server.upload_dir) + files_under(server.temp_dir)
    assert _upload(server, limit + MB) in (413, "cut")  # refused before it is read
    assert files_under(server.upload_dir) + files_under(server.temp_dir) == kept  # nothing of it left behind
