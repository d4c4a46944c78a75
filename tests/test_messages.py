"""The message catalogue: every sentence in English and Chinese, rendered in the user's language everywhere."""
from __future__ import annotations

import ast
import copy
import pickle
import string
from pathlib import Path

import pytest

import emo
from emo import messages
from emo.errors import FaceError, UserError
from emo.messages import CATALOGUE, Message, cli_language, language_of

ROOT = Path(__file__).resolve().parent.parent


def _fields(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_message_has_both_languages_with_the_same_blanks(key):
    entry = CATALOGUE[key]
    assert set(entry) == set(messages.LANGUAGES), key
    assert _fields(entry["en"]) == _fields(entry["zh"]), key
    assert entry["en"].strip() and entry["zh"].strip()


def test_chinese_sentences_are_chinese():
    """A zh entry that is the English copied over would pass the check above; proper names and units may match."""
    same = [key for key, entry in CATALOGUE.items() if entry["en"] == entry["zh"]]
    assert same == [], same


def test_a_message_reads_as_english_and_renders_in_chinese():
    message = Message("face.too_small", width=41.6, least=64)
    assert isinstance(message, str)
    assert message == "The face is too small (42 pixels wide). Use a photo where the face is at least 64 pixels " \
                      "wide: crop closer to the face, or upload the original, larger photo."
    assert message.text("zh").startswith("脸太小了（42 像素宽）")
    assert message.text("fr") == str(message)  # a language we lack: English


def test_nested_messages_and_sentence_lists_are_translated_too():
    reason = Message("face.turned", degrees=40.0)
    still = Message("together.face_still", number=2, reason=reason)
    assert still.text("zh") == "第 2 张脸不动：头部侧转角度过大（约 40 度）。请使用人物正视镜头的照片。"
    few = Message("together.too_few", usable=1, found=2, reasons=[still])
    assert "found). Face 2 stays still: The head is turned" in few
    assert "stays still: The head is turned too far to the side (about 40 degrees). Use a photo where the person " \
           "looks straight at the camera. Upload a photo" in few
    assert "（共找到 2 张）。第 2 张脸不动：头部侧转角度过大" in few.text("zh")
    assert Message("together.too_few", usable=0, found=0, reasons=[]).count("  ") == 0


def test_messages_survive_copies_and_pickles_with_their_translations():
    message = Message("audio.cut", limit=Message("units.seconds", seconds="30"))
    for twin in (copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert twin == message and twin.text("zh") == message.text("zh") == "要唱的部分超过了 30 秒，所以只用了前 30 秒。"


def test_an_unknown_key_is_a_bug_found_where_it_is_written():
    with pytest.raises(KeyError):
        Message("no.such.message")


def test_errors_render_in_the_users_language():
    err = FaceError(Message("face.none"))
    assert str(err) == err.message == CATALOGUE["face.none"]["en"]
    assert err.text("zh") == CATALOGUE["face.none"]["zh"]
    assert UserError("plain words").text("zh") == "plain words"


@pytest.mark.parametrize("header, language", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9,zh-CN;q=0.8", "en"), ("zh-TW", "zh"), ("zh", "zh"),
    ("fr-FR,zh-CN;q=0.5", "zh"), ("fr-FR,de", "en"), ("", "en"), (None, "en"), ("*", "en"), ("zh_CN.UTF-8", "zh"),
    ("C.UTF-8", "en"), ("en_GB.UTF-8", "en"), ("en;q=0.1,zh", "zh"), ("zh;q=0,en", "en"), ("zh;q=0", "en"),
    ("zh;q=nan,en;q=0.5", "en"), ("de,zh;q=0.8,en;q=0.9", "en"), ("zh;q=abc", "en"),
])
def test_the_language_comes_from_the_browser_or_the_locale(header, language):
    assert language_of(header) == language


def test_the_cli_follows_the_posix_variables_in_their_order():
    assert cli_language({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert cli_language({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}) == "en"
    assert cli_language({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}) == "zh"
    assert cli_language({}) == "en"


def test_a_page_answers_in_the_language_it_shows_else_in_the_browsers():
    """The switch is remembered per page (Gradio session) on the server: a Space's cross-site frame keeps no cookie."""
    from types import SimpleNamespace

    from emo import serve

    page = SimpleNamespace(session_hash="page-1", headers={"accept-language": "en-US,en"})
    other = SimpleNamespace(session_hash="page-2", headers={"accept-language": "zh-CN"})
    assert serve.request_language(page) == "en" and serve.request_language(other) == "zh"
    serve.remember_language(page, "zh")
    assert serve.request_language(page) == "zh" and serve.request_language([page]) == "zh"
    assert serve.request_language(other) == "zh"
    serve.remember_language(other, "en")
    serve.remember_language(other, ["zh"])  # not a language: ignored
    assert serve.request_language(other) == "en"
    hostile = SimpleNamespace(session_hash=["x"], headers=SimpleNamespace(get=None))
    assert serve.request_language(hostile) == "en" and serve.request_language(None) == "en"


def test_the_server_remembers_a_bounded_number_of_pages(monkeypatch):
    from types import SimpleNamespace

    from emo import serve

    monkeypatch.setattr(serve, "MAX_PAGES", 3)
    for n in range(5):
        serve.remember_language(SimpleNamespace(session_hash=f"bounded-{n}"), "zh")
    assert len(serve._page_languages) <= 3 and "bounded-4" in serve._page_languages


def test_every_preset_has_a_title_in_both_languages():
    for song in emo.list_songs():
        assert song.name == song.title, song.id  # the English title is the preset's own
        assert song.label.text("zh").endswith(f"{song.duration:.1f} 秒")


def _raised_texts(path: Path):
    """(line, text) of every string literal handed straight to a user-facing error in `path`."""
    user_errors = {"UserError", "PhotoError", "FaceError", "AudioError", "SongError", "EngineUnavailable"}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in user_errors and node.args:
            if isinstance(node.args[0], (ast.Constant, ast.JoinedStr)):
                yield node.lineno, ast.unparse(node.args[0])


def test_no_user_facing_error_is_worded_outside_the_catalogue():
    found = [(path.relative_to(ROOT), line, text) for path in sorted((ROOT / "emo").rglob("*.py"))
             for line, text in _raised_texts(path)]
    assert found == [], found
