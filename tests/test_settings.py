"""Settings: one frozen object from the environment, checked at start-up, documented by the table it generates."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
from dataclasses import fields
from pathlib import Path

import pytest

from emo import settings
from emo.engines import ENGINES
from emo.settings import SettingError, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_unset_and_blank_variables_keep_the_defaults():
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({"EMO_CONCURRENCY": "  ", "EMO_ENGINE": ""}) == Settings()


def test_values_are_read_into_their_types():
    got = Settings.from_env({"EMO_ENGINE": "Warp", "EMO_CONCURRENCY": "8", "EMO_MAX_UPLOAD": "1 GB",
                             "EMO_OUTPUT_TTL_S": "90.5", "EMO_OUTPUT_DIR": "/srv/videos", "EMO_MAX_SECONDS": "60",
                             "EMO_MARK_TEXT": " Synthetic video ", "EMO_DIFFUSION_VARIANT": "quality",
                             "EMO_DIFFUSION_DEVICE": "cuda:1", "OTHER": "ignored"})
    assert (got.engine, got.concurrency, got.max_upload, got.output_ttl_s) == ("warp", 8, 1024**3, 90.5)
    assert got.output_dir == Path("/srv/videos") and got.max_seconds == 60.0
    assert got.mark_text == "Synthetic video" and got.diffusion_variant == "quality"
    assert got.diffusion_device == "cuda:1" and got.queue_size == 32


@pytest.mark.parametrize("env, says", [
    ({"EMO_CONCURRENCY": "abc"}, "EMO_CONCURRENCY='abc' is not a whole number from 1 to 64."),
    ({"EMO_QUEUE_SIZE": "0"}, "EMO_QUEUE_SIZE='0' is not a whole number from 1 to 10000."),
    ({"EMO_CONCURRENCY": "²"}, "EMO_CONCURRENCY='²' is not a whole number from 1 to 64."),  # a digit int() refuses
    ({"EMO_MAX_UPLOAD": "²mb"}, "EMO_MAX_UPLOAD='²mb' is not a size such as 25mb."),
    ({"EMO_MAX_UPLOAD": "huge"}, "EMO_MAX_UPLOAD='huge' is not a size such as 25mb."),
    ({"EMO_MAX_SECONDS": "-5"}, "EMO_MAX_SECONDS='-5' is not a number of seconds from 1 to 3600."),
    ({"EMO_OUTPUT_TTL_S": "soon"}, "EMO_OUTPUT_TTL_S='soon' is not a number of seconds"),
    ({"EMO_ENGINE": "magic"}, f"EMO_ENGINE='magic' is not known. Use one of: {', '.join(['auto', *ENGINES])}."),
    ({"EMO_DIFFUSION_VARIANT": "best"}, "EMO_DIFFUSION_VARIANT='best' is not known. Use one of: fast, quality."),
    ({"EMO_MARK_TEXT": "人工智能生成"}, "EMO_MARK_TEXT='人工智能生成' is not a short line of Latin-script text"),
])
def test_a_bad_value_is_named_in_a_sentence(env, says):
    with pytest.raises(SettingError, match=re.escape(says)):
        Settings.from_env(env)


def test_every_bad_value_is_named_at_once():
    with pytest.raises(SettingError) as caught:
        Settings.from_env({"EMO_CONCURRENCY": "lots", "EMO_SEPARATOR": "magic", "EMO_QUEUE_SIZE": "5"})
    assert "EMO_CONCURRENCY='lots'" in str(caught.value) and "EMO_SEPARATOR='magic'" in str(caught.value)
    assert "EMO_QUEUE_SIZE" not in str(caught.value)


def test_every_field_documents_itself():
    names = [f.metadata["env"] for f in fields(Settings)]
    assert len(set(names)) == len(names) and all(name.startswith("EMO_") for name in names)
    assert all(f.metadata["help"] and f.metadata["shown"] for f in fields(Settings))


def test_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- settings-table:start[^>]*-->\n(.*?)\n<!-- settings-table:end -->", readme, re.S)
    assert table, "README.md lacks the settings-table markers"
    assert table.group(1) == settings.markdown_table(), "run `python -m emo.settings` and paste its table"


def test_only_the_settings_module_reads_emo_variables():
    """No module reads an EMO_* variable behind the settings' back (at import or later)."""
    reads = re.compile(r"""(environ(\.get)?\s*[(\[]|getenv\()\s*["']EMO_""")
    offenders = [str(path.relative_to(ROOT)) for path in [ROOT / "app.py", *(ROOT / "emo").rglob("*.py")]
                 if path.name != "settings.py" and reads.search(path.read_text())]
    assert offenders == []


def test_using_swaps_the_settings_for_a_block_and_its_threads():
    before = settings.current()
    seen = []
    with settings.using(max_seconds=12.0) as inside:
        assert settings.current() is inside and inside.max_seconds == 12.0
        worker = threading.Thread(target=lambda: seen.append(settings.current().max_seconds))
        worker.start()
        worker.join()
    assert seen == [12.0] and settings.current() is before


def test_nothing_is_read_at_import():
    """A bad value breaks no import: it is found when the settings are first used (the app's and CLI's start)."""
    code = ("import emo.pipeline, emo.together, emo.outputs, emo.provenance, emo.separate, emo.face, emo.audio, "
            "emo.engines.diffusion, emo.engines.warp, emo.settings as s; print(s._current)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "EMO_CONCURRENCY": "lots", "EMO_MAX_SECONDS": "x"})
    assert done.returncode == 0 and done.stdout.strip() == "None", done.stderr[-800:]


def test_the_cli_stops_on_a_bad_setting_with_its_sentence():
    done = subprocess.run([sys.executable, "-m", "emo", "songs"], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "EMO_MAX_UPLOAD": "huge"})
    assert done.returncode == 2 and "EMO_MAX_UPLOAD='huge' is not a size" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_cli_engine_comes_from_the_settings_unless_the_flag_says(monkeypatch):
    import emo.pipeline
    from emo.__main__ import main

    asked = []

    def fake_sing(photo, song, *, engine, **kwargs):
        asked.append(engine)
        return emo.pipeline.SingResult(Path("out.mp4"), engine, 1.0, 25)

    monkeypatch.setattr(emo.pipeline, "sing", fake_sing)
    with settings.using(engine="warp"):
        assert main(["sing", "me.jpg", "twinkle-twinkle", "-o", "out.mp4", "-q"]) == 0
        assert main(["sing", "me.jpg", "twinkle-twinkle", "-o", "out.mp4", "-q", "--engine", "auto"]) == 0
    assert asked == ["warp", "auto"]
