"""The diffusion engine end to end on CPU, through the same loading code as on a GPU, with tiny random weights
written to a folder in EchoMimic's file layout (the diffusion_path setting). No network: nothing comes from the hub."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from emo import settings
from emo.audio import AudioFeatures
from emo.engines import RenderJob, resolve
from emo.face import Face

from .conftest import ROOT, decode_frames

N_FRAMES, FPS, SIZE = 20, 25, 32  # 20 frames: two overlapping 12-frame windows plus one wrapping round the end
SIZES = {
    "resolution": SIZE,
    "reference_net": {"block_out_channels": [32, 64], "layers_per_block": 1, "attention_heads": 2, "norm_groups": 8},
    "denoising_unet": {"block_out_channels": [32, 64], "layers_per_block": 1, "attention_heads": 2, "norm_groups": 8,
                       "audio_dim": 16, "motion_heads": 2, "motion_max_frames": 16},
    "face_locator": {"out_channels": 32, "block_out_channels": [8, 16]},  # one stride-2 step: the tiny VAE's factor
}


def write_tiny_weights(root):
    """A weights folder like the hub's, with every model tiny and random."""
    from diffusers import AutoencoderKL
    from transformers import WhisperConfig, WhisperModel

    from emo.diffusion.denoising_unet import DenoisingUNet
    from emo.diffusion.face_locator import FaceLocator
    from emo.diffusion.reference_net import ReferenceNet

    torch.manual_seed(0)
    (root / "echomimic.json").write_text(json.dumps(SIZES))
    torch.save(ReferenceNet(**SIZES["reference_net"]).state_dict(), root / "reference_unet.pth")
    torch.save(FaceLocator(**SIZES["face_locator"]).state_dict(), root / "face_locator.pth")
    unet = DenoisingUNet(**SIZES["denoising_unet"]).state_dict()
    torch.save({k: v for k, v in unet.items() if ".motion_modules." not in k}, root / "denoising_unet_acc.pth")
    torch.save({k: v for k, v in unet.items() if ".motion_modules." in k}, root / "motion_module_acc.pth")
    whisper = WhisperConfig(d_model=16, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=32,
                            decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=32, vocab_size=64,
                            max_target_positions=16, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                            decoder_start_token_id=1, suppress_tokens=[], begin_suppress_tokens=[])
    WhisperModel(whisper).save_pretrained(root / "whisper-tiny")
    AutoencoderKL(block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
                  up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=8).save_pretrained(root / "sd-vae-ft-mse")


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("echomimic-tiny")
    write_tiny_weights(root)
    return root


@pytest.fixture()
def tiny_env(tiny_weights, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("emo.engines._loaded", {})  # engines loaded on tiny weights must not outlive the test
    # One torch thread: on 2 cores, torch's spinning worker threads and the video encoder starve each other.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with settings.using(diffusion_path=tiny_weights, diffusion_device="cpu"):
        yield tiny_weights
    torch.set_num_threads(threads)


def _job(size: int = 64, seed: int = 0) -> RenderJob:
    from skimage import data

    portrait = np.asarray(Image.fromarray(data.astronaut()[40:240, 130:330]).resize((size, size)))
    s = size / 200  # the astronaut's face spans x 179-272, y 83-178 of the 512 photo
    face = Face(box=((179 - 130) * s, (83 - 40) * s, (272 - 130) * s, (178 - 40) * s),
                landmarks=np.zeros((68, 2), np.float32))
    t = np.arange(N_FRAMES * 16_000 // FPS) / 16_000
    vocals = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)
    zeros = np.zeros(N_FRAMES, np.float32)
    audio = AudioFeatures(fps=FPS, n_frames=N_FRAMES, vocals=vocals, mix=vocals, loudness=zeros, roundness=zeros,
                          spread=zeros, onset=zeros, beat=zeros.astype(bool), energy=zeros)
    return RenderJob(portrait=portrait, face=face, audio=audio, motion=None, seed=seed)


@pytest.mark.slow
def test_engine_renders_every_frame_with_progress(tiny_env):
    from emo.engines.diffusion import DiffusionEngine

    assert DiffusionEngine.unavailable_reason(auto=True) is None
    engine = DiffusionEngine.load()
    job = _job()
    calls: list[tuple[int, int]] = []
    rendered = list(engine.render(job, lambda done, total: calls.append((done, total))))
    assert all(frame.flags.writeable for frame in rendered)  # the writer may stamp them in place
    frames = np.stack(rendered)
    assert frames.shape == (N_FRAMES, 64, 64, 3) and frames.dtype == np.uint8
    assert frames.std() > 1  # random weights, but real pixels, not a constant
    assert calls[-1] == (N_FRAMES, N_FRAMES)
    assert all(b[0] >= a[0] for a, b in zip(calls, calls[1:]))
    # 6 steps x 3 windows of denoising, then 2 decode chunks
    assert len(calls) == 6 * 3 + 2
    again = np.stack(list(engine.render(job, lambda *_: None)))
    assert np.array_equal(frames, again)  # the seed fixes the result


def test_auto_picks_diffusion_only_when_it_can_run(tiny_env):
    assert resolve("auto") == "diffusion"
    from emo.engines.diffusion import DiffusionEngine

    with settings.using(diffusion_path=tiny_env / "nowhere"):
        reason = DiffusionEngine.unavailable_reason(auto=True)
        assert "lacks" in reason and "reference_unet.pth" in reason
        assert resolve("auto") == "warp"


def test_without_gpu_or_weights_the_reasons_are_plain(monkeypatch, tmp_path):
    from emo.engines.diffusion import DiffusionEngine

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty hub cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with settings.using(diffusion_path=None, diffusion_device=None):
        assert "not downloaded" in DiffusionEngine.unavailable_reason(auto=True)
        if not torch.cuda.is_available():
            assert DiffusionEngine.unavailable_reason(auto=False) == (
                "The diffusion engine needs an NVIDIA GPU; this machine has none. Use the CPU engine (warp).")


def test_importing_the_engine_module_stays_light():
    code = ("import sys, emo.engines.diffusion, emo.diffusion.weights; "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _short_song(path: Path) -> Path:
    import wave

    t = np.arange(int(1.2 * 16_000)) / 16_000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16_000)
        w.writeframes((0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16).tobytes())
    return path


@pytest.mark.slow
def test_sing_makes_a_video_with_the_diffusion_engine(tiny_env, tmp_path):
    """The whole product path (face check, song analysis, engine, video writer) on the tiny weights."""
    from emo import sing
    from skimage import data

    result = sing(data.astronaut(), _short_song(tmp_path / "song.wav"), engine="diffusion", size=256,
                  out=tmp_path / "out.mp4")
    assert result.engine == "diffusion" and result.video.is_file()
    assert result.frames == 30 and len(decode_frames(result.video, 256)) == 30


@pytest.mark.slow
def test_cli_and_app_run_the_diffusion_engine(tiny_env, tmp_path):
    """The same weights through the two doors users take: `python -m emo sing` and the app's handler."""
    import os

    env = dict(os.environ, EMO_ENGINE="diffusion", EMO_DIFFUSION_PATH=str(tiny_env), EMO_DIFFUSION_DEVICE="cpu",
               GRADIO_TEMP_DIR=str(tmp_path / "gradio"))
    photo = tmp_path / "me.png"
    from skimage import data

    Image.fromarray(data.astronaut()).save(photo)
    song = _short_song(tmp_path / "song.wav")
    done = subprocess.run([sys.executable, "-m", "emo", "sing", str(photo), str(song), "-o", str(tmp_path / "cli.mp4"),
                           "--engine", "diffusion", "--size", "256", "-q"], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert len(decode_frames(tmp_path / "cli.mp4", 256)) == 30
    code = (f"import app, json; *_, (video, status) = app.generate({str(photo)!r}, None, {str(song)!r}, 0.5, 0, "
            "progress=lambda *a, **k: None); print(json.dumps([app.ENGINE_NAME, video, status]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    engine, video, status = json.loads(done.stdout.strip().splitlines()[-1])
    assert engine == "diffusion" and "**diffusion** engine" in status
    assert len(decode_frames(Path(video), 512)) == 30


def test_checkpoints_unpickle_safely_and_keep_an_fp16_copy(tmp_path):
    from emo.diffusion.weights import load_checkpoint

    path = tmp_path / "face_locator.pth"
    torch.save({"w": torch.ones(2, 3), "step": torch.tensor(7)}, path)
    state = load_checkpoint(path, fp16_cache=tmp_path / "fp16")
    assert state["w"].dtype == torch.float32 and (tmp_path / "fp16" / "face_locator.fp16.safetensors").is_file()
    path.unlink()  # the copy is enough from now on
    copy = load_checkpoint(path, fp16_cache=tmp_path / "fp16")
    assert copy["w"].dtype == torch.float16 and copy["step"].item() == 7

    torch.save({"w": torch.ones(1), "code": Face}, tmp_path / "evil.pth")  # a pickle that would import a class
    with pytest.raises(Exception, match="[Ww]eights only"):
        load_checkpoint(tmp_path / "evil.pth")
