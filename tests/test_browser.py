"""The Space in a real browser: headless Chromium (Debian's package, driven by Playwright) against app.py on 127.0.0.1.

What a visitor does: pick a song, upload a photo (or click an example, or bring their own audio), press Generate,
and watch the video play; or read why their photo was refused. `make test` installs Playwright and chromium.
"""
from __future__ import annotations

import shutil
import subprocess
from urllib.parse import quote
from pathlib import Path

import pytest
from PIL import Image

import emo
from emo import face as face_mod
from emo import photo as photo_mod
from emo.ffmpeg import exe as ffmpeg_exe
from emo.messages import Message

from . import images

pytestmark = pytest.mark.slow  # a real browser against a served app

playwright = pytest.importorskip("playwright.sync_api", reason="make test installs playwright")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
SONG = min(emo.list_songs(), key=lambda song: song.duration)  # the shortest preset: the quickest real render
RENDER_MS = 90_000  # a 10 s preset takes ~7 s on 2 cores; generous for a loaded machine
STEP_MS = 20_000  # anything else a page does


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (scripts/install-browser.sh)")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        yield chromium
        chromium.close()


def _visitor(browser, server, locale: str):
    """A fresh visitor (own context: own cookies and Gradio session) whose browser speaks `locale`, app loaded."""
    context = browser.new_context(viewport={"width": 1280, "height": 1500}, locale=locale)
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    page.goto(server.url)
    page.wait_for_selector('input[type=file][accept="image/*"]', state="attached")
    return context, page


@pytest.fixture
def page(browser, server):
    context, page = _visitor(browser, server, "en-US")
    yield page
    context.close()


@pytest.fixture
def chinese_page(browser, server):
    """A visitor whose browser asks for zh-CN: the page turns Chinese once it has loaded."""
    context, page = _visitor(browser, server, "zh-CN")
    page.get_by_role("button", name="生成").first.wait_for()
    yield page
    context.close()


def _pick_song(page, song, language: str = "en") -> None:
    picker = page.get_by_role("combobox", name=Message("app.song").text(language)).first
    picker.click()
    page.get_by_role("option", name=song.label.text(language)).click()
    assert picker.input_value() == song.label.text(language)


def _upload_photo(page, path: Path) -> None:
    """Choose a file in the photo input and wait until its preview shows (the upload is done)."""
    page.set_input_files('input[type=file][accept="image/*"]', str(path))
    page.wait_for_selector(f'img[src*="{quote(path.name)}"]')  # the src is URL-encoded (a Chinese file name)


def _generate(page, button: str = "Generate") -> str:
    """Press Generate and wait (bounded) for the status to report: the status text.

    "Error" is what Gradio's status tracker shows inside #status when the handler never answered (an exception).
    """
    page.get_by_role("button", name=button).first.click()
    page.wait_for_function("() => /Done:|完成：|⚠️|\\bError\\b/.test(document.querySelector('#status').innerText)",
                           timeout=RENDER_MS)
    return page.inner_text("#status").strip()


def _playing_video(page) -> dict:
    """Wait until the result video has loaded and is playing by itself (autoplay); its state."""
    page.wait_for_function("() => { const v = document.querySelector('video');"
                           " return v && v.readyState >= 2 && !v.paused && v.currentTime > 0.3; }")
    return page.evaluate("() => { const v = document.querySelector('video');"
                         " return {duration: v.duration, time: v.currentTime, error: v.error && v.error.code,"
                         "         width: v.videoWidth, height: v.videoHeight, src: v.currentSrc}; }")


def test_upload_a_photo_pick_a_song_and_watch_it_sing(page, server, tmp_path):
    photo = tmp_path / "my_headshot.png"
    Image.fromarray(images.astronaut()).save(photo)
    _pick_song(page, SONG)
    _upload_photo(page, photo)
    status = _generate(page)
    assert status.startswith("Done:") and f"{SONG.duration:.1f} s" in status, status
    video = _playing_video(page)
    assert abs(video["duration"] - SONG.duration) <= 1 / 25 + 0.05, video
    assert video["error"] is None and video["width"] == video["height"] == 512, video
    assert video["src"].startswith(server.url) and video["src"].endswith(".mp4"), video
    # The one screenshot: what the visitor sees at the end (kept with the test's files under /tmp).
    page.screenshot(path=str(tmp_path / "singing.png"), full_page=True)
    print(f"\nscreenshot: {tmp_path / 'singing.png'}")


def test_a_refused_photo_shows_why(page, tmp_path):
    cat = tmp_path / "my_cat.png"
    Image.fromarray(images.no_face()["cat"]).save(cat)
    _upload_photo(page, cat)
    status = _generate(page)
    assert status == f"⚠️ {face_mod.NO_FACE}"
    assert page.evaluate("() => !document.querySelector('video')"), "no video for a refused photo"


def test_an_example_portrait_sings_the_visitors_own_audio(page, tmp_path):
    """Clicking an example fills the photo; an uploaded clip is sung instead of the preset (its length, not 10 s)."""
    clip = tmp_path / "my_voice.wav"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=f=330:d=1.6", str(clip)], check=True)
    page.locator("button.gallery-item").first.click()  # the first example portrait
    page.wait_for_function("() => document.querySelectorAll('img[src*=\"eileen_collins\"]').length >= 2")
    page.set_input_files('input[type=file][accept*="audio/"]', str(clip))
    # Uploaded: the audio input's file picker gives way to a player.
    page.wait_for_function("() => !document.querySelector('input[type=file][accept*=\"audio/\"]')")
    status = _generate(page)
    assert status.startswith("Done: 1.6 s"), status
    video = _playing_video(page)
    assert abs(video["duration"] - 1.6) <= 1 / 25 + 0.05, video


# A file that is not an image reaches emo.photo untouched (app.PhotoInput), so the page shows its sentence.
def test_a_file_that_is_not_an_image_shows_why(page, tmp_path):
    junk = tmp_path / "holiday.jpg"
    junk.write_bytes(images.text_file())
    page.set_input_files('input[type=file][accept="image/*"]', str(junk))
    page.wait_for_selector('img[src*="holiday.jpg"]', state="attached")
    assert _generate(page) == f"⚠️ {photo_mod.NOT_AN_IMAGE}"


def test_a_chinese_browser_sees_the_page_progress_and_video_in_chinese(chinese_page, tmp_path):
    page = chinese_page
    body = page.inner_text("body")
    for words in ("照片唱歌", "单张照片", "一起唱", "歌曲", "你的照片：一张脸，正对镜头", "头部动作", "示例照片"):
        assert words in body, words
    _pick_song(page, SONG, "zh")
    photo = tmp_path / "我的照片.png"
    Image.fromarray(images.astronaut()).save(photo)
    _upload_photo(page, photo)
    page.get_by_role("button", name="生成").first.click()
    page.wait_for_function("() => /正在生成第 \\d+\\/\\d+ 帧/.test(document.body.innerText)", timeout=RENDER_MS)
    page.wait_for_function("() => /完成：|⚠️/.test(document.querySelector('#status').innerText)", timeout=RENDER_MS)
    status = page.inner_text("#status").strip()
    assert status.startswith(f"完成：由 **warp** 引擎生成的 {SONG.duration:.1f} 秒视频".replace("**", "")), status
    assert abs(_playing_video(page)["duration"] - SONG.duration) <= 1 / 25 + 0.05


def test_a_chinese_browser_is_told_in_chinese_why_a_photo_is_refused_and_can_switch(chinese_page, browser, server,
                                                                                    tmp_path):
    page = chinese_page
    cat = tmp_path / "我的猫.png"
    Image.fromarray(images.no_face()["cat"]).save(cat)
    _upload_photo(page, cat)
    assert _generate(page, "生成") == f"⚠️ {face_mod.NO_FACE.text('zh')}"
    # The switch: English at once, in the words of the page and of its next answer, and remembered on the next visit.
    page.get_by_label("English").check()
    page.get_by_role("button", name="Generate").first.click()
    page.wait_for_function("() => document.querySelector('#status').innerText.includes('We could not find')",
                           timeout=RENDER_MS)
    assert page.inner_text("#status").strip() == f"⚠️ {face_mod.NO_FACE}"
    assert "Your photo: one face, looking at the camera" in page.inner_text("body")
    page.reload()
    page.wait_for_selector('input[type=file][accept="image/*"]', state="attached")
    page.get_by_role("button", name="Generate").first.wait_for()
    assert "生成" not in page.get_by_role("button").all_inner_texts()
