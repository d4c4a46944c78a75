"""The Space: pick a song, upload a headshot, watch it sing. UI wiring only; the work happens in `emo`."""
from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr
import spaces
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

import emo
from emo import arrange, outputs, serve, settings
from emo.engines import engine_class, load_engine, resolve
from emo.errors import UserError
from emo.messages import LANGUAGES, Message, listed, translate
from emo.pipeline import MAX_SEED, clock
from emo.together import ENGINE as TOGETHER_ENGINE
from emo.video import share_cores_with_the_encoder

logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
logging.getLogger("emo").setLevel(logging.INFO)
log = logging.getLogger("emo.app")

try:
    SETTINGS = settings.current()  # every EMO_* variable, checked now: a bad one stops the app with its sentence
except settings.SettingError as err:
    raise SystemExit(str(err)) from None
ROOT = Path(__file__).parent
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.jpg"))
# Videos go straight into Gradio's own cache, which is what the page serves from: one copy of each.
OUTPUTS = Path(get_upload_folder()) / "emo-outputs"
serve.check_setup(OUTPUTS, [Path(p) for p in EXAMPLES] + [f for s in emo.list_songs() for f in (s.mix, s.vocals)]
                  + ([] if emo.list_songs() else [ROOT / "assets" / "songs" / "*" / "song.json"]))

share_cores_with_the_encoder()  # before any child is forked (ZeroGPU forks one per job)
ENGINE_NAME = resolve(SETTINGS.engine)  # `make run` sets warp: the CPU engine
try:
    load_engine(ENGINE_NAME)  # at start-up: ZeroGPU needs models placed before the GPU function runs
except UserError as err:
    log.warning("The %s engine cannot run here (%s). Serving the CPU engine instead.", ENGINE_NAME, err)
    ENGINE_NAME = "warp"
SONGS = {song.id: song for song in emo.list_songs()}


def song_card(song_id, language: str = "en", engine: str | None = None) -> tuple[str, str]:
    """The picked song's details, with the wait `engine` (default: the app's) costs, and its preview audio."""
    song = emo.get_song(song_id)
    engine = engine or ENGINE_NAME
    card = Message("app.card", title=song.name, language=Message(f"song.language.{song.language}"),
                   kind=Message(f"song.kind.{song.kind}"), duration=song.duration,
                   lyrics=song.lyrics.replace("\n", "  \n"), engine=engine,
                   wait=engine_class(engine).cost.seconds(song.duration))
    return card.text(language), str(song.mix)


def gpu_seconds(photo, song_id, own_audio, *_, **__) -> int:
    """ZeroGPU reservation: grows with the clip's length (the diffusion engine's cost is per frame). It is called with
    `generate`'s own arguments, whatever they are after the first three."""
    seconds = SETTINGS.max_seconds if own_audio or song_id not in SONGS else SONGS[song_id].duration
    return int(30 + 8 * seconds)


def _sing(photo, song_id, own_audio, motion, seed, start, end):
    """The job: the preset (or the user's own audio) sung by the photo, into the app's output folder."""
    def work(stop, report):
        song = Path(own_audio) if own_audio else emo.get_song(song_id).id
        return emo.sing(photo, song, engine=ENGINE_NAME, motion=motion, seed=seed, start=start, end=end,
                        out=outputs.new_output_path(OUTPUTS), progress=report, stop=stop)
    return serve.Job(work)


@spaces.GPU(duration=gpu_seconds)
def generate(photo, song_id, own_audio, motion, seed, start=None, end=None, request: gr.Request = None,
             progress=gr.Progress()):
    """Yields (video path or None, status message); own audio, when given, is sung instead of the preset, from
    `start` to `end` (seconds or m:ss; empty: the whole clip, at most the max_seconds setting).

    A generator, so Gradio can close it when the user leaves: that stops the job (see serve.Job).
    """
    language = serve.request_language(request)
    if not photo:
        yield None, refusal(Message("app.need_photo").text(language))
        return
    yield from _shown(_sing(photo, song_id, own_audio, motion, seed, start, end), progress, language)


def refusal(sentence: str) -> str:
    """The status that says why no video was made."""
    return f"⚠️ {sentence}"


def _shown(job: serve.Job, progress, language: str):
    """Run a job, passing its progress to the page; finally (video, status): the video and its notes, or why not."""
    with job:
        for update in job:
            if update:
                progress(update[0], desc=translate(update[1], language))
            yield gr.skip(), gr.skip()
        try:
            result = job.result()
        except UserError as err:
            yield None, refusal(err.text(language))
            return
    lines = [Message("app.done", seconds=result.seconds, engine=result.engine)]
    lines += [Message("app.note", text=notice) for notice in result.notices]
    yield str(result.video), "\n\n".join(line.text(language) for line in lines)


def faces_found(group_photo, request: gr.Request = None):
    """The group photo with its faces numbered (green: they sing; grey: they stay still), and why any stay still."""
    if not group_photo:
        return None, ""
    language = serve.request_language(request)
    try:
        stage = emo.group_stage(group_photo)
    except UserError as err:
        return None, refusal(err.text(language))
    numbers = listed([singer.number for singer in stage.singers], language)
    lines = [Message("app.singers", count=len(stage.singers), numbers=numbers), *stage.notices]
    return emo.numbered_faces(stage), "\n\n".join(translate(line, language) for line in lines)


def generate_together(group_photo, photo1, photo2, photo3, photo4, song_id, own_audio, voices, arrangement,
                      round_beats, motion, seed, request: gr.Request = None, progress=gr.Progress()):
    """Yields (video path or None, status): the group photo's faces, or the photos', sing in the arrangement."""
    language = serve.request_language(request)
    photos = [p for p in (photo1, photo2, photo3, photo4) if p]
    if group_photo and photos:
        yield None, refusal(Message("app.group_and_photos").text(language))
        return
    if not group_photo and len(photos) < 2:
        yield None, refusal(Message("app.no_photos").text(language))
        return

    def work(stop, report):
        song = Path(own_audio) if own_audio else emo.get_song(song_id).id
        beats = int(round_beats) if isinstance(round_beats, (int, float)) and float(round_beats).is_integer() \
            else round_beats
        return emo.sing_together([group_photo] if group_photo else photos, song, arrangement=arrangement,
                                 voices=voices, round_beats=beats, motion=motion, seed=seed,
                                 out=outputs.new_output_path(OUTPUTS), progress=report, stop=stop)
    yield from _shown(serve.Job(work), progress, language)


class Words:
    """The page's words: each component is made with its words in English and registered here, and a switch of the
    page's language sends every one of them again in the new language."""

    def __init__(self):
        self.parts: list[tuple[gr.components.Component, dict]] = []

    def __call__(self, make, words: dict, **kwargs):
        """`make(**kwargs, **words)` with `words` (prop -> catalogue key, or a function of the language) in English."""
        component = make(**kwargs, **{prop: self._said(word, "en") for prop, word in words.items()})
        self.parts.append((getattr(component, "dataset", component), words))  # gr.Examples: its Dataset has the label
        return component

    @staticmethod
    def _said(word, language: str):
        return word(language) if callable(word) else Message(word).text(language)

    def updates(self, language: str) -> list:
        return [gr.update(**{prop: self._said(word, language) for prop, word in words.items()})
                for _, words in self.parts]


# The page's own memory of the switch, for the next visit from this browser (a cookie would not be kept for a
# Space, which runs in a cross-site frame); on load, the remembered choice or nothing.
STORE_LANGUAGE = "(language) => { try { localStorage.setItem('emo-language', language); } catch (e) {} return language; }"
RECALL_LANGUAGE = "(shown) => { try { return localStorage.getItem('emo-language') || ''; } catch (e) { return ''; } }"


def build() -> gr.Blocks:
    first = next(iter(SONGS))
    words = Words()
    # Gradio keeps its own copies of uploads: sweep them on the same schedule as the videos.
    ttl = int(SETTINGS.output_ttl_s)
    title = " · ".join(Message("app.title").text(code) for code in LANGUAGES)  # the browser tab: both, always
    with serve.GuardedBlocks(title=title, delete_cache=(min(600, ttl), ttl)) as demo:
        with gr.Row():
            words(gr.Markdown, {"value": "app.intro"})
            language = serve.LanguagePicker([(name, code) for code, name in LANGUAGES.items()], value="en",
                                            label=Message("app.language"), scale=0, min_width=220)
        with words(gr.Tab, {"label": "app.tab_one"}):
            cards = [_one_photo_tab(words, first)]
        with words(gr.Tab, {"label": "app.tab_together"}):
            cards.append(_together_tab(words, first))

        def opening_language(remembered: str, request: gr.Request) -> str:
            """The page opens in this browser's earlier choice, else in its languages' first that we have."""
            chosen = remembered if remembered in LANGUAGES else serve.request_language(request)
            serve.remember_language(request, chosen)
            return chosen

        def relabel(chosen: str, one_song: str, together_song: str, request: gr.Request) -> list:
            """Every word of the page, and each tab's song card, in `chosen`; the page's later answers too."""
            chosen = chosen if isinstance(chosen, str) and chosen in LANGUAGES else "en"
            serve.remember_language(request, chosen)
            songs = (one_song, together_song)
            return [*words.updates(chosen), *(song_card(song, chosen, engine)[0]
                                              for song, (_, _, engine) in zip(songs, cards))]

        # Instant, and out of the queue: a full queue must not leave a page in the wrong language.
        demo.load(opening_language, language, language, js=RECALL_LANGUAGE, queue=False, api_visibility="undocumented")
        language.input(None, language, None, js=STORE_LANGUAGE, queue=False)  # the visitor's own choice only
        language.change(relabel, [language, *(song for song, _, _ in cards)],
                        [c for c, _ in words.parts] + [card for _, card, _ in cards], queue=False,
                        api_visibility="undocumented")
    return demo


def _song_inputs(words: Words, first: str, engine: str):
    """The preset picker with its card (the wait by `engine`) and preview, and the own-audio upload."""
    song = words(serve.SongPicker, {"label": "app.song", "choices": _song_choices}, value=first)
    card_text, card_audio = song_card(first, "en", engine)
    card = gr.Markdown(card_text)
    preview = words(gr.Audio, {"label": "app.preview"}, value=card_audio, interactive=False)
    longest = clock(SETTINGS.max_seconds)
    own_audio = words(serve.AudioInput, {"label": lambda language: Message("app.own_audio", longest=longest)
                                         .text(language)}, type="filepath", sources=["upload", "microphone"])

    def picked(song_id, request: gr.Request):
        return song_card(song_id, serve.request_language(request), engine)
    song.change(picked, song, [card, preview], api_name="song_card")
    return song, own_audio, card


def _song_choices(language: str) -> list[tuple[str, str]]:
    return [(s.label.text(language), s.id) for s in SONGS.values()]


def _take_inputs(words: Words, controls: frozenset[str]):
    """Head motion and seed, each shown only when the engine follows it."""
    motion = words(serve.SliderInput, {"label": "app.motion", "info": "app.motion_info"}, minimum=0, maximum=1,
                   value=0.5, step=0.05, visible="motion" in controls)
    seed = words(serve.NumberInput, {"label": "app.seed", "info": "app.seed_info"}, value=0, precision=0, minimum=0,
                 maximum=MAX_SEED, visible="seed" in controls)
    return motion, seed


def _one_photo_tab(words: Words, first: str):
    with gr.Row():
        with gr.Column():
            song, own_audio, card = _song_inputs(words, first, ENGINE_NAME)
            with gr.Row():
                start = words(serve.TextInput, {"label": "app.from", "info": "app.from_info"}, placeholder="0:00",
                              max_length=16)
                end = words(serve.TextInput, {"label": "app.to", "placeholder": "app.to_placeholder",
                                              "info": "app.to_info"}, max_length=16)
            photo = words(serve.PhotoInput, {"label": "app.photo"}, type="filepath",
                          sources=["upload", "webcam", "clipboard"], height=320)
            words(gr.Examples, {"label": "app.examples"}, examples=EXAMPLES, inputs=photo)
            motion, seed = _take_inputs(words, engine_class(ENGINE_NAME).controls)
            go = words(gr.Button, {"value": "app.generate"}, variant="primary")
        with gr.Column():
            video = words(gr.Video, {"label": "app.video"}, autoplay=True, buttons=["download"])
            status = gr.Markdown(elem_id="status")
    go.click(generate, [photo, song, own_audio, motion, seed, start, end], [video, status],
             concurrency_limit=SETTINGS.concurrency)
    return song, card, ENGINE_NAME


def _together_tab(words: Words, first: str):
    words(gr.Markdown, {"value": "app.together_intro"})
    with gr.Row():
        with gr.Column():
            group_photo = words(serve.PhotoInput, {"label": "app.group_photo"}, type="filepath",
                                sources=["upload", "clipboard"], height=260)
            faces = words(gr.Image, {"label": "app.faces_found"}, interactive=False, height=260)
            faces_note = gr.Markdown(elem_id="faces-note")
            words(gr.Markdown, {"value": "app.or_photos"})
            with gr.Row():
                slots = [words(serve.PhotoInput, {"label": lambda language, i=i: Message("app.photo_n", number=i)
                                                  .text(language)}, type="filepath", height=150,
                               sources=["upload", "webcam", "clipboard"]) for i in range(1, 5)]
            arrangement = words(serve.ChoiceInput, {"label": "app.arrangement", "choices": _arrangements},
                                value="together")
            round_beats = words(serve.SliderInput, {"label": "app.round_beats"}, minimum=1, maximum=16, value=8, step=1)
            song, own_audio, card = _song_inputs(words, first, TOGETHER_ENGINE)
            voices = words(serve.FilesInput, {"label": "app.voices"}, file_count="multiple")
            motion, seed = _take_inputs(words, engine_class(TOGETHER_ENGINE).controls)
            go = words(gr.Button, {"value": "app.generate"}, variant="primary")
        with gr.Column():
            video = words(gr.Video, {"label": "app.together_video"}, autoplay=True, buttons=["download"])
            status = gr.Markdown(elem_id="status-together")
    group_photo.change(faces_found, group_photo, [faces, faces_note])
    go.click(generate_together, [group_photo, *slots, song, own_audio, voices, arrangement, round_beats, motion, seed],
             [video, status], concurrency_limit=SETTINGS.concurrency)
    return song, card, TOGETHER_ENGINE


def _arrangements(language: str) -> list[tuple[str, str]]:
    return [(Message(f"app.arrangement.{name}").text(language), name) for name in arrange.ARRANGEMENTS]


demo = build()
demo.queue(max_size=SETTINGS.queue_size)
serve.calm_queue(demo)

if __name__ == "__main__":
    from emo.face import preload

    demo.launch(allowed_paths=[str(ROOT / "assets" / "songs"), str(ROOT / "examples")],
                max_file_size=SETTINGS.max_upload,
                app_kwargs={"middleware": [Middleware(serve.RequestLimits, max_upload=SETTINGS.max_upload)]},
                prevent_thread_lock=True)
    preload()  # the face models (~1.4 s) load once the page is up, not on the first visitor's photo
    demo.block_thread()
