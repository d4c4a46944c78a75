"""The Space: pick a song, upload a headshot, watch it sing. UI wiring only; the work happens in `emo`."""
from __future__ import annotations

import os
from pathlib import Path

import gradio as gr
import spaces

import emo
from emo.audio import MAX_SECONDS
from emo.engines import load_engine, resolve
from emo.outputs import OUTPUT_DIR, OUTPUT_TTL_S
from emo.errors import UserError

ROOT = Path(__file__).parent
ENGINE = os.environ.get("EMO_ENGINE", "auto")  # `make run` sets warp: the CPU engine
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
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.jpg"))
SONGS = {song.id: song for song in emo.list_songs()}
CONCURRENCY = int(os.environ.get("EMO_CONCURRENCY", "2"))
MAX_UPLOAD = os.environ.get("EMO_MAX_UPLOAD", "25mb")


class PhotoInput(gr.Image):
    """An image upload handed to `emo` untouched: our reader, not Gradio's, judges and explains bad files."""

    def preprocess(self, payload):
        return None if payload is None else payload.path

    def get_block_name(self) -> str:
        return "image"  # drawn by Gradio's own image component


def song_card(song_id: str) -> tuple[str, str]:
    """The picked song's details and its preview audio."""
    song = SONGS[song_id]
    kind = "sung" if song.kind == "sung" else "spoken line"
    language = {"en": "English", "zh": "Mandarin"}.get(song.language, song.language)
    lyrics = song.lyrics.replace("\n", "  \n")
    fixed, per_second = WAIT[ENGINE_NAME]
    wait = f"Engine: **{ENGINE_NAME}** · about {fixed + per_second * song.duration:.0f} s to make"
    return f"**{song.title}** · {language} {kind} · {song.duration:.1f} s\n\n{lyrics}\n\n{wait}", str(song.mix)


def gpu_seconds(photo, song_id, own_audio, motion, seed, progress=None) -> int:
    """ZeroGPU reservation: grows with the clip's length (the diffusion engine's cost is per frame)."""
    seconds = MAX_SECONDS if own_audio or song_id not in SONGS else SONGS[song_id].duration
    return int(30 + 8 * seconds)


@spaces.GPU(duration=gpu_seconds)
def generate(photo, song_id, own_audio, motion, seed, progress=gr.Progress()):
    """Returns (video path or None, status message). Own audio, when given, is sung instead of the preset."""
    if not photo:
        return None, "Upload a photo of one face first (or click an example)."
    try:
        song = own_audio or emo.get_song(song_id).id  # the API could send any string: only preset ids pass
        result = emo.sing(photo, song, engine=ENGINE, motion=float(motion), seed=int(seed),
                          progress=lambda fraction, message: progress(fraction, desc=message))
    except UserError as err:
        return None, f"⚠️ {err}"
    lines = [f"Done: {result.seconds:.1f} s of video by the **{result.engine}** engine."]
    lines += [f"Note: {notice}" for notice in result.notices]
    return str(result.video), "\n\n".join(lines)


def build() -> gr.Blocks:
    first = next(iter(SONGS))
    # Gradio keeps its own copies of uploads and results: sweep them on the same schedule as our outputs.
    ttl = int(OUTPUT_TTL_S)
    with gr.Blocks(title="Sing, portrait!", delete_cache=(min(600, ttl), ttl)) as demo:
        gr.Markdown("# Sing, portrait!\nPick a song, upload a frontal headshot, and watch the face sing it. "
                    "Runs on a CPU in seconds; every video is marked as AI-generated.")
        with gr.Row():
            with gr.Column():
                song = gr.Dropdown([(s.label, s.id) for s in SONGS.values()], value=first, label="Song")
                card_text, card_audio = song_card(first)
                card = gr.Markdown(card_text)
                preview = gr.Audio(card_audio, label="Preview", interactive=False)
                own_audio = gr.Audio(type="filepath", sources=["upload", "microphone"],
                                     label=f"…or sing your own audio (mp3, wav, m4a, ogg, flac; first {MAX_SECONDS:.0f} s)")
                photo = PhotoInput(type="filepath", label="Your photo: one face, looking at the camera",
                                 sources=["upload", "webcam", "clipboard"], height=320)
                gr.Examples(EXAMPLES, inputs=photo, label="Example portraits")
                motion = gr.Slider(0, 1, value=0.5, step=0.05, label="Head motion", info="0 = still, 1 = lively")
                seed = gr.Number(0, precision=0, label="Seed", info="Another seed, another take")
                go = gr.Button("Generate", variant="primary")
            with gr.Column():
                video = gr.Video(label="Singing video", autoplay=True, buttons=["download"])
                status = gr.Markdown(elem_id="status")
        song.change(song_card, song, [card, preview])
        go.click(generate, [photo, song, own_audio, motion, seed], [video, status], concurrency_limit=CONCURRENCY)
    return demo


demo = build()
demo.queue(max_size=int(os.environ.get("EMO_QUEUE_SIZE", "32")))

if __name__ == "__main__":
    from emo.face import preload

    demo.launch(allowed_paths=[str(ROOT / "assets" / "songs"), str(ROOT / "examples"), str(OUTPUT_DIR)],
                max_file_size=MAX_UPLOAD, prevent_thread_lock=True)
    preload()  # the face models (~1.4 s) load once the page is up, not on the first visitor's photo
    demo.block_thread()
