"""The Space: pick a song, upload a headshot, watch it sing. UI wiring only; the work happens in `emo`."""
from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr
import spaces
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

import emo
from emo import outputs, serve
from emo.audio import MAX_SECONDS
from emo.engines import load_engine, resolve
from emo.errors import UserError
from emo.pipeline import MAX_SEED

logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
logging.getLogger("emo").setLevel(logging.INFO)

ROOT = Path(__file__).parent
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.jpg"))
# Videos go straight into Gradio's own cache, which is what the page serves from: one copy of each.
OUTPUTS = Path(get_upload_folder()) / "emo-outputs"
serve.check_setup(OUTPUTS, [Path(p) for p in EXAMPLES] + [f for s in emo.list_songs() for f in (s.mix, s.vocals)]
                  + ([] if emo.list_songs() else [ROOT / "assets" / "songs" / "*" / "song.json"]))

ENGINE = serve.setting("EMO_ENGINE", "auto")  # `make run` sets warp: the CPU engine
ENGINE_NAME = resolve(ENGINE)
# Rough cost model for the wait shown to users: (fixed seconds, seconds per second of video). Warp: measured on a
# 2-core CPU (benchmarks/speed.py); diffusion: a planning figure for one large GPU, 6 steps, until measured.
WAIT = {"warp": (2.0, 0.3), "diffusion": (20.0, 2.0)}
if ENGINE_NAME == "diffusion":
    try:
        load_engine(ENGINE_NAME)  # at start-up: ZeroGPU needs models placed before the GPU function runs
    except UserError as err:
        print(f"The diffusion engine cannot run here ({err}) Serving the CPU engine instead.")
        ENGINE = ENGINE_NAME = "warp"
SONGS = {song.id: song for song in emo.list_songs()}
CONCURRENCY = serve.int_setting("EMO_CONCURRENCY", 2, 1, 64)
QUEUE_SIZE = serve.int_setting("EMO_QUEUE_SIZE", 32, 1, 10_000)
MAX_UPLOAD = serve.size_setting("EMO_MAX_UPLOAD", "25mb")


def song_card(song_id) -> tuple[str, str]:
    """The picked song's details and its preview audio."""
    song = emo.get_song(song_id)
    kind = "sung" if song.kind == "sung" else "spoken line"
    language = {"en": "English", "zh": "Mandarin"}.get(song.language, song.language)
    lyrics = song.lyrics.replace("\n", "  \n")
    fixed, per_second = WAIT[ENGINE_NAME]
    wait = f"Engine: **{ENGINE_NAME}** · about {fixed + per_second * song.duration:.0f} s to make"
    return f"**{song.title}** · {language} {kind} · {song.duration:.1f} s\n\n{lyrics}\n\n{wait}", str(song.mix)


def gpu_seconds(photo, song_id, own_audio, motion, seed, start=None, end=None, progress=None) -> int:
    """ZeroGPU reservation: grows with the clip's length (the diffusion engine's cost is per frame)."""
    seconds = MAX_SECONDS if own_audio or song_id not in SONGS else SONGS[song_id].duration
    return int(30 + 8 * seconds)


def _sing(photo, song_id, own_audio, motion, seed, start, end):
    """The job: the preset (or the user's own audio) sung by the photo, into the app's output folder."""
    def work(stop, report):
        song = Path(own_audio) if own_audio else emo.get_song(song_id).id
        return emo.sing(photo, song, engine=ENGINE, motion=motion, seed=seed, start=start, end=end,
                        out=outputs.new_output_path(OUTPUTS), progress=report, stop=stop)
    return serve.Job(work)


@spaces.GPU(duration=gpu_seconds)
def generate(photo, song_id, own_audio, motion, seed, start=None, end=None, progress=gr.Progress()):
    """Yields (video path or None, status message); own audio, when given, is sung instead of the preset, from
    `start` to `end` (seconds or m:ss; empty: the whole clip, at most MAX_SECONDS).

    A generator, so Gradio can close it when the user leaves: that stops the job (see serve.Job).
    """
    if not photo:
        yield None, "Upload a photo of one face first (or click an example)."
        return
    with _sing(photo, song_id, own_audio, motion, seed, start, end) as job:
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


def build() -> gr.Blocks:
    first = next(iter(SONGS))
    # Gradio keeps its own copies of uploads: sweep them on the same schedule as the videos.
    ttl = int(outputs.OUTPUT_TTL_S)
    with serve.GuardedBlocks(title="Sing, portrait!", delete_cache=(min(600, ttl), ttl)) as demo:
        gr.Markdown("# Sing, portrait!\nPick a song, upload a frontal headshot, and watch the face sing it. "
                    "Runs on a CPU in seconds; every video is marked as AI-generated.")
        with gr.Row():
            with gr.Column():
                song = serve.SongPicker([(s.label, s.id) for s in SONGS.values()], value=first, label="Song")
                card_text, card_audio = song_card(first)
                card = gr.Markdown(card_text)
                preview = gr.Audio(card_audio, label="Preview", interactive=False)
                own_audio = serve.AudioInput(
                    type="filepath", sources=["upload", "microphone"],
                    label=f"…or sing your own audio (mp3, wav, m4a, ogg, flac, aiff, webm; up to {MAX_SECONDS / 60:.0f} min)")
                with gr.Row():
                    start = serve.TextInput(label="Sing from", placeholder="0:00", max_length=16,
                                            info="seconds or m:ss")
                    end = serve.TextInput(label="to", placeholder="the end", max_length=16, info="empty: the end")
                photo = serve.PhotoInput(type="filepath", label="Your photo: one face, looking at the camera",
                                         sources=["upload", "webcam", "clipboard"], height=320)
                gr.Examples(EXAMPLES, inputs=photo, label="Example portraits")
                motion = serve.SliderInput(0, 1, value=0.5, step=0.05, label="Head motion",
                                           info="0 = still, 1 = lively")
                seed = serve.NumberInput(0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed",
                                         info="Another seed, another take")
                go = gr.Button("Generate", variant="primary")
            with gr.Column():
                video = gr.Video(label="Singing video", autoplay=True, buttons=["download"])
                status = gr.Markdown(elem_id="status")
        song.change(song_card, song, [card, preview])
        go.click(generate, [photo, song, own_audio, motion, seed, start, end], [video, status],
                 concurrency_limit=CONCURRENCY)
    return demo


demo = build()
demo.queue(max_size=QUEUE_SIZE)

if __name__ == "__main__":
    from emo.face import preload

    demo.launch(allowed_paths=[str(ROOT / "assets" / "songs"), str(ROOT / "examples")], max_file_size=MAX_UPLOAD,
                app_kwargs={"middleware": [Middleware(serve.RequestLimits, max_upload=MAX_UPLOAD)]},
                prevent_thread_lock=True)
    preload()  # the face models (~1.4 s) load once the page is up, not on the first visitor's photo
    demo.block_thread()
