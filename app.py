"""The Space: pick a song, upload a headshot, watch it sing. UI wiring only; the work happens in `emo`."""
from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr
import spaces
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

import emo
from emo import outputs, serve, settings
from emo.engines import engine_class, load_engine, resolve
from emo.errors import UserError
from emo.pipeline import MAX_SEED
from emo.together import ENGINE as TOGETHER_ENGINE

logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
logging.getLogger("emo").setLevel(logging.INFO)

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

ENGINE_NAME = resolve(SETTINGS.engine)  # `make run` sets warp: the CPU engine
try:
    load_engine(ENGINE_NAME)  # at start-up: ZeroGPU needs models placed before the GPU function runs
except UserError as err:
    print(f"The {ENGINE_NAME} engine cannot run here ({err}) Serving the CPU engine instead.")
    ENGINE_NAME = "warp"
ENGINE_CLASS = engine_class(ENGINE_NAME)  # its cost is the wait shown; its controls, the inputs shown
SONGS = {song.id: song for song in emo.list_songs()}


def song_card(song_id) -> tuple[str, str]:
    """The picked song's details and its preview audio."""
    song = emo.get_song(song_id)
    kind = "sung" if song.kind == "sung" else "spoken line"
    language = {"en": "English", "zh": "Mandarin"}.get(song.language, song.language)
    lyrics = song.lyrics.replace("\n", "  \n")
    wait = f"Engine: **{ENGINE_NAME}** · about {ENGINE_CLASS.cost.seconds(song.duration):.0f} s to make"
    return f"**{song.title}** · {language} {kind} · {song.duration:.1f} s\n\n{lyrics}\n\n{wait}", str(song.mix)


def gpu_seconds(photo, song_id, own_audio, motion, seed, start=None, end=None, progress=None) -> int:
    """ZeroGPU reservation: grows with the clip's length (the diffusion engine's cost is per frame)."""
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
def generate(photo, song_id, own_audio, motion, seed, start=None, end=None, progress=gr.Progress()):
    """Yields (video path or None, status message); own audio, when given, is sung instead of the preset, from
    `start` to `end` (seconds or m:ss; empty: the whole clip, at most the max_seconds setting).

    A generator, so Gradio can close it when the user leaves: that stops the job (see serve.Job).
    """
    if not photo:
        yield None, "Upload a photo of one face first (or click an example)."
        return
    yield from _shown(_sing(photo, song_id, own_audio, motion, seed, start, end), progress)


def _shown(job: serve.Job, progress):
    """Run a job, passing its progress to the page; finally (video, status): the video and its notes, or why not."""
    with job:
        for update in job:
            if update:
                progress(update[0], desc=update[1])
            yield gr.skip(), gr.skip()
        try:
            result = job.result()
        except UserError as err:
            yield None, f"⚠️ {err}"
            return
    lines = [f"Done: {result.seconds:.1f} s of video by the **{result.engine}** engine."]
    lines += [f"Note: {notice}" for notice in result.notices]
    yield str(result.video), "\n\n".join(lines)


def faces_found(group_photo):
    """The group photo with its faces numbered (green: they sing; grey: they stay still), and why any stay still."""
    if not group_photo:
        return None, ""
    try:
        stage = emo.group_stage(group_photo)
    except UserError as err:
        return None, f"⚠️ {err}"
    lines = [f"{len(stage.singers)} faces will sing: " + ", ".join(str(s.number) for s in stage.singers) + "."]
    return emo.numbered_faces(stage), "\n\n".join(lines + list(stage.notices))


def generate_together(group_photo, photo1, photo2, photo3, photo4, song_id, own_audio, voices, arrangement,
                      round_beats, motion, seed, progress=gr.Progress()):
    """Yields (video path or None, status): the group photo's faces, or the photos', sing in the arrangement."""
    photos = [p for p in (photo1, photo2, photo3, photo4) if p]
    if group_photo and photos:
        yield None, "Use either one group photo or 2-4 separate photos, not both: clear one of them."
        return
    if not group_photo and len(photos) < 2:
        yield None, "Upload one group photo, or two to four photos of one face each."
        return

    def work(stop, report):
        song = Path(own_audio) if own_audio else emo.get_song(song_id).id
        beats = int(round_beats) if isinstance(round_beats, (int, float)) and float(round_beats).is_integer() \
            else round_beats
        return emo.sing_together([group_photo] if group_photo else photos, song, arrangement=arrangement,
                                 voices=voices, round_beats=beats, motion=motion, seed=seed,
                                 out=outputs.new_output_path(OUTPUTS), progress=report, stop=stop)
    yield from _shown(serve.Job(work), progress)


def build() -> gr.Blocks:
    first = next(iter(SONGS))
    # Gradio keeps its own copies of uploads: sweep them on the same schedule as the videos.
    ttl = int(SETTINGS.output_ttl_s)
    with serve.GuardedBlocks(title="Sing, portrait!", delete_cache=(min(600, ttl), ttl)) as demo:
        gr.Markdown("# Sing, portrait!\nPick a song, upload a frontal headshot, and watch the face sing it. "
                    "Runs on a CPU in seconds; every video is marked as AI-generated.")
        with gr.Tab("One photo"):
            _one_photo_tab(first)
        with gr.Tab("Sing together"):
            _together_tab(first)
    return demo


def _song_inputs(first: str):
    """The preset picker with its card and preview, and the own-audio upload."""
    song = serve.SongPicker([(s.label, s.id) for s in SONGS.values()], value=first, label="Song")
    card_text, card_audio = song_card(first)
    card = gr.Markdown(card_text)
    preview = gr.Audio(card_audio, label="Preview", interactive=False)
    longest = f"{SETTINGS.max_seconds / 60:.0f} min"
    own_audio = serve.AudioInput(
        type="filepath", sources=["upload", "microphone"],
        label=f"…or sing your own audio (mp3, wav, m4a, ogg, flac, aiff, webm; up to {longest})")
    song.change(song_card, song, [card, preview])
    return song, own_audio


def _take_inputs(controls: frozenset[str]):
    """Head motion and seed, each shown only when the engine follows it."""
    motion = serve.SliderInput(0, 1, value=0.5, step=0.05, label="Head motion", info="0 = still, 1 = lively",
                               visible="motion" in controls)
    seed = serve.NumberInput(0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed",
                             info="Another seed, another take", visible="seed" in controls)
    return motion, seed


def _one_photo_tab(first: str) -> None:
    with gr.Row():
        with gr.Column():
            song, own_audio = _song_inputs(first)
            with gr.Row():
                start = serve.TextInput(label="Sing from", placeholder="0:00", max_length=16, info="seconds or m:ss")
                end = serve.TextInput(label="to", placeholder="the end", max_length=16, info="empty: the end")
            photo = serve.PhotoInput(type="filepath", label="Your photo: one face, looking at the camera",
                                     sources=["upload", "webcam", "clipboard"], height=320)
            gr.Examples(EXAMPLES, inputs=photo, label="Example portraits")
            motion, seed = _take_inputs(ENGINE_CLASS.controls)
            go = gr.Button("Generate", variant="primary")
        with gr.Column():
            video = gr.Video(label="Singing video", autoplay=True, buttons=["download"])
            status = gr.Markdown(elem_id="status")
    go.click(generate, [photo, song, own_audio, motion, seed, start, end], [video, status],
             concurrency_limit=SETTINGS.concurrency)


def _together_tab(first: str) -> None:
    gr.Markdown("Friends, family, or you at 5, 10 and 15: one group photo, or two to four photos, sing one song.")
    with gr.Row():
        with gr.Column():
            group_photo = serve.PhotoInput(type="filepath", label="One group photo (2-6 faces looking at the camera)",
                                           sources=["upload", "clipboard"], height=260)
            faces = gr.Image(label="Faces found", interactive=False, height=260)
            faces_note = gr.Markdown(elem_id="faces-note")
            gr.Markdown("…or two to four photos, one face each, in the order they sing:")
            with gr.Row():
                slots = [serve.PhotoInput(type="filepath", label=f"Photo {i}", height=150,
                                          sources=["upload", "webcam", "clipboard"]) for i in range(1, 5)]
            arrangement = serve.ChoiceInput(
                [("Together: everyone sings everything", "together"), ("Take turns, phrase by phrase", "turns"),
                 ("A round: each face comes in later", "round"), ("Own voices: one clip per face", "voices")],
                value="together", label="Arrangement")
            round_beats = serve.SliderInput(1, 16, value=8, step=1, label="Round: beats between entries")
            song, own_audio = _song_inputs(first)
            voices = serve.FilesInput(file_count="multiple", label="Own voices: one clip per face, in the faces' order")
            motion, seed = _take_inputs(engine_class(TOGETHER_ENGINE).controls)
            go = gr.Button("Generate", variant="primary")
        with gr.Column():
            video = gr.Video(label="Singing together", autoplay=True, buttons=["download"])
            status = gr.Markdown(elem_id="status-together")
    group_photo.change(faces_found, group_photo, [faces, faces_note])
    go.click(generate_together, [group_photo, *slots, song, own_audio, voices, arrangement, round_beats, motion, seed],
             [video, status], concurrency_limit=SETTINGS.concurrency)


demo = build()
demo.queue(max_size=SETTINGS.queue_size)

if __name__ == "__main__":
    from emo.face import preload

    demo.launch(allowed_paths=[str(ROOT / "assets" / "songs"), str(ROOT / "examples")],
                max_file_size=SETTINGS.max_upload,
                app_kwargs={"middleware": [Middleware(serve.RequestLimits, max_upload=SETTINGS.max_upload)]},
                prevent_thread_lock=True)
    preload()  # the face models (~1.4 s) load once the page is up, not on the first visitor's photo
    demo.block_thread()
