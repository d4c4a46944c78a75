"""Prove that emo.diffusion computes what EchoMimic v1's reference implementation computes (not run in CI).

Both sides are built at full size (SD1.5 U-Nets, whisper-tiny, sd-vae-ft-mse) with the same random weights, on
CPU in float32, at a small spatial size; every weight tensor is random (also those the reference zero-initialises),
so every layer is exercised. Compared: the ReferenceNet's features, the face locator, the audio tokens, one
denoising step and a whole 2-step sample (sliding windows, DDIM, VAE), without and with guidance.

The reference runs in a child process, because it needs diffusers 0.24.0 (and transformers 4.38.2 with
huggingface_hub 0.20.3) apart from the project's packages:

    mkdir -p /tmp/echomimic && git -C <echomimic git dir> archive HEAD src configs | tar -x -C /tmp/echomimic
    pip install --target /tmp/ref-site --no-deps diffusers==0.24.0 huggingface_hub==0.20.3 transformers==4.38.2 \\
        tokenizers==0.15.2 omegaconf==2.3.0 antlr4-python3-runtime==4.9.3 einops==0.4.1 ffmpeg-python==0.2.0 \\
        future==1.0.0
    python scripts/parity_echomimic.py --reference /tmp/echomimic --site /tmp/ref-site

The child creates its own empty stand-in ``xformers`` module. The reference's whisper code expects a
``mel_filters.npz`` asset its repository does not ship; the child is handed transformers' (librosa-equal) filters.
Needs about 20 GB of memory and 10 GB of disk in --workdir.
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

TOLERANCE = 1e-4
# Stable Diffusion 1.5's U-Net config (sd-image-variations-diffusers/unet, which EchoMimic starts from)
SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, center_input_sample=False, flip_sin_to_cos=True, freq_shift=0,
    down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"], mid_block_type="UNetMidBlock2DCrossAttn",
    up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3, only_cross_attention=False,
    block_out_channels=[320, 640, 1280, 1280], layers_per_block=2, downsample_padding=1, mid_block_scale_factor=1,
    act_fn="silu", norm_num_groups=32, norm_eps=1e-5, cross_attention_dim=768, attention_head_dim=8,
    use_linear_projection=False, upcast_attention=False,
)
SD_VAE = dict(
    in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[128, 256, 512, 512], layers_per_block=2,
    act_fn="silu", latent_channels=4, norm_num_groups=32, sample_size=512, scaling_factor=0.18215,
)
WHISPER_TINY = dict(n_mels=80, n_audio_ctx=1500, n_audio_state=384, n_audio_head=6, n_audio_layer=4, n_vocab=51865,
                    n_text_ctx=448, n_text_state=384, n_text_head=6, n_text_layer=4)


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Every parameter random: matrices scaled by fan-in, norm gains near 1, small biases."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim >= 2:
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p[0].numel()))
            elif name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))


def make_inputs(args) -> dict[str, np.ndarray]:
    from PIL import Image
    from skimage import data

    rng = np.random.default_rng(args.seed)
    size, latent = args.size, args.size // 8
    portrait = np.asarray(Image.fromarray(data.astronaut()[40:240, 130:330]).resize((size, size)))
    mask = np.zeros((size, size), np.float32)
    mask[size // 5:size * 4 // 5, size // 4:size * 3 // 4] = 1
    t = np.arange(int(args.frames / 25 * 16_000)) / 16_000
    vocals = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    latents = rng.standard_normal((1, 4, args.frames, latent, latent)).astype(np.float32)
    return dict(portrait=portrait, mask=mask, vocals=vocals, latents=latents)


# ----------------------------------------------------------------------------------------------- reference side

def run_reference(args) -> None:
    """Runs in the child, with the reference implementation and diffusers 0.24.0 importable."""
    from diffusers import AutoencoderKL, DDIMScheduler
    from omegaconf import OmegaConf
    from PIL import Image
    from safetensors.torch import save_file

    import src.models.whisper.whisper.audio as whisper_audio
    from src.models.attention import BasicTransformerBlock
    from src.models.face_locator import FaceLocator
    from src.models.mutual_self_attention import ReferenceAttentionControl
    from src.models.unet_2d_condition import UNet2DConditionModel
    from src.models.unet_3d_echo import EchoUNet3DConditionModel
    from src.models.whisper.audio2feature import Audio2Feature
    from src.models.whisper.whisper.model import ModelDimensions, Whisper
    from src.pipelines.pipeline_echo_mimic import Audio2VideoPipeline as GuidedPipeline
    from src.pipelines.pipeline_echo_mimic_acc import Audio2VideoPipeline as AccPipeline

    work = Path(args.workdir)
    inputs = dict(np.load(work / "inputs.npz"))
    filters = torch.from_numpy(np.load(work / "mel_filters.npy"))
    whisper_audio.mel_filters = lambda device, n_mels=80: filters.to(device)
    # the reference builds its reference-attention masks on "cuda" unconditionally; this torch has no CUDA
    register = ReferenceAttentionControl.register_reference_hooks
    ReferenceAttentionControl.register_reference_hooks = (
        lambda self, *a, **k: register(self, *a, **dict(k, device=torch.device("cpu"))))
    infer = OmegaConf.load(Path(args.reference) / "configs/inference/inference_v2.yaml")
    frames, t = args.frames, torch.tensor(args.timestep)

    reference_unet = UNet2DConditionModel.from_config(SD15_UNET)
    unet3d = dict(SD15_UNET, down_block_types=["CrossAttnDownBlock3D"] * 3 + ["DownBlock3D"],
                  up_block_types=["UpBlock3D"] + ["CrossAttnUpBlock3D"] * 3, mid_block_type="UNetMidBlock3DCrossAttn")
    denoising_unet = EchoUNet3DConditionModel.from_config(
        unet3d, **OmegaConf.to_container(infer.unet_additional_kwargs))
    face_locator = FaceLocator(320, conditioning_channels=1, block_out_channels=(16, 32, 96, 256))
    whisper = Whisper(ModelDimensions(**WHISPER_TINY))
    vae = AutoencoderKL(**SD_VAE)
    models = dict(reference_unet=reference_unet, denoising_unet=denoising_unet, face_locator=face_locator,
                  whisper=whisper.encoder, vae=vae)
    for i, model in enumerate(models.values()):
        randomize(model, args.seed + i)
        model.eval()
    print("reference: models built", flush=True)
    # torch.save streams tensor by tensor; a safetensors file would first be built whole in memory
    torch.save({f"{name}.{k}": v for name, m in models.items() for k, v in m.state_dict().items()},
               work / "reference_weights.pt")
    audio_guider = Audio2Feature.__new__(Audio2Feature)
    audio_guider.model = whisper
    out: dict[str, torch.Tensor] = {}

    with torch.no_grad():
        mask5d = torch.from_numpy(inputs["mask"])[None, None, None]
        out["face_locator"] = face_locator(mask5d)[:, :, 0]
        feats = audio_guider.feature2chunks(feature_array=audio_guider.audio2feat(inputs["vocals"]), fps=25)
        out["audio"] = torch.from_numpy(feats[:frames]).float()

        writer = ReferenceAttentionControl(reference_unet, mode="write", fusion_blocks="full")
        reader = ReferenceAttentionControl(denoising_unet, mode="read", fusion_blocks="full")
        image = torch.from_numpy(inputs["portrait"]).permute(2, 0, 1)[None].float() / 255 * 2 - 1
        ref_latents = vae.encode(image).latent_dist.mean * 0.18215
        reference_unet(ref_latents, torch.zeros_like(t), encoder_hidden_states=None, return_dict=False)
        for name, module in reference_unet.named_modules():
            if isinstance(module, BasicTransformerBlock):
                out[f"reference/{name}"] = module.bank[0]
        reader.update(writer)
        out["reference_latents"] = ref_latents
        out["step"] = denoising_unet(torch.from_numpy(inputs["latents"]), t, encoder_hidden_states=None,
                                     audio_cond_fea=out["audio"][None], face_musk_fea=out["face_locator"][:, :, None],
                                     return_dict=False)[0]
        reader.clear()
        writer.clear()

    scheduler = DDIMScheduler(**OmegaConf.to_container(infer.noise_scheduler_kwargs))
    for name, cls, guidance in (("sample", AccPipeline, 1.0), ("sample_guided", GuidedPipeline, 2.5)):
        pipe = cls(vae=vae, reference_unet=reference_unet, denoising_unet=denoising_unet, audio_guider=audio_guider,
                   face_locator=face_locator, scheduler=scheduler)
        pipe.set_progress_bar_config(disable=True)
        out[name] = pipe(Image.fromarray(inputs["portrait"]), inputs["vocals"], mask5d, args.size, args.size, frames,
                         args.steps, guidance, generator=torch.manual_seed(args.seed), context_frames=12,
                         context_overlap=3, fps=25).videos[0].transpose(0, 1)
        print(f"reference: {name} done", flush=True)
    save_file({k: v.float().contiguous() for k, v in out.items()}, work / "reference_outputs.safetensors")


# ---------------------------------------------------------------------------------------------------- our side

def whisper_to_transformers(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """OpenAI whisper encoder names -> transformers' WhisperEncoder names."""
    renames = [("positional_embedding", "embed_positions.weight"), ("blocks.", "layers."),
               ("attn.query", "self_attn.q_proj"), ("attn.key", "self_attn.k_proj"),
               ("attn.value", "self_attn.v_proj"), ("attn.out", "self_attn.out_proj"),
               ("attn_ln", "self_attn_layer_norm"), ("mlp_ln", "final_layer_norm"), ("mlp.0", "fc1"),
               ("mlp.2", "fc2"), ("ln_post", "layer_norm")]
    result = {}
    for key, value in state.items():
        for old, new in renames:
            key = key.replace(old, new)
        result[key] = value
    return result


def build_ours(work: Path):
    from diffusers import AutoencoderKL
    from transformers import WhisperConfig

    from emo.diffusion.audio_encoder import AudioEncoder
    from emo.diffusion.denoising_unet import DenoisingUNet
    from emo.diffusion.face_locator import FaceLocator
    from emo.diffusion.pipeline import EchoMimicPipeline, make_scheduler
    from emo.diffusion.reference_net import ReferenceNet

    weights = torch.load(work / "reference_weights.pt", mmap=True, weights_only=True)

    def part(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) + 1:]: v for k, v in weights.items() if k.startswith(prefix + ".")}

    def load(model, state):
        model.load_state_dict(state, strict=True, assign=True)  # strict: same names and shapes as the reference
        return model.eval()

    with torch.device("meta"):
        reference_net, denoising_unet, face_locator = ReferenceNet(), DenoisingUNet(), FaceLocator()
    config = WhisperConfig(d_model=384, encoder_layers=4, encoder_attention_heads=6, encoder_ffn_dim=1536,
                           num_mel_bins=80, max_source_positions=1500)
    pipe = EchoMimicPipeline(
        vae=load(AutoencoderKL(**SD_VAE), part("vae")),
        reference_net=load(reference_net, part("reference_unet")),
        denoising_unet=load(denoising_unet, part("denoising_unet")),
        face_locator=load(face_locator, part("face_locator")),
        audio_encoder=AudioEncoder(load(AudioEncoder.from_config(config).encoder,
                                        whisper_to_transformers(part("whisper")))),
        scheduler=make_scheduler(),
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def compare(args) -> int:
    from safetensors.torch import load_file

    work = Path(args.workdir)
    inputs = dict(np.load(work / "inputs.npz"))
    ref = load_file(work / "reference_outputs.safetensors")
    pipe = build_ours(work)
    frames = args.frames
    rows: list[tuple[str, float, float]] = []

    def row(name: str, ours: torch.Tensor, theirs: torch.Tensor) -> None:
        assert ours.shape == theirs.shape, (name, ours.shape, theirs.shape)
        rows.append((name, (ours.float() - theirs).abs().max().item(), theirs.abs().max().item()))

    with torch.no_grad():
        row("face locator", pipe.face_locator(torch.from_numpy(inputs["mask"])[None, None]), ref["face_locator"])
        audio = pipe.audio_encoder(inputs["vocals"], frames, 25)
        row("audio tokens (whisper-tiny)", audio, ref["audio"])
        latents = pipe.encode_portrait(inputs["portrait"])
        row("VAE portrait latents", latents, ref["reference_latents"])
        features = pipe.reference_net(ref["reference_latents"])
        theirs = {k.split("/", 1)[1]: v for k, v in ref.items() if k.startswith("reference/")}
        assert features.keys() == theirs.keys()
        worst = max(features, key=lambda k: (features[k] - theirs[k]).abs().max())
        row(f"ReferenceNet features ({len(features)} blocks)", features[worst], theirs[worst])
        step = pipe.denoising_unet(torch.from_numpy(inputs["latents"]), args.timestep, ref["audio"][None],
                                   {k: v.half() for k, v in theirs.items()}, ref["face_locator"])
        row(f"denoising U-Net, one step (t={args.timestep}, {frames} frames)", step, ref["step"])
        for name, guidance in (("sample", 1.0), ("sample_guided", 2.5)):
            video = pipe(inputs["portrait"], inputs["mask"], inputs["vocals"], frames, 25, args.steps, guidance,
                         generator=torch.manual_seed(args.seed), output_type="pt")
            label = f"{args.steps}-step sample, guidance {guidance} ({frames} frames, {args.size}x{args.size})"
            row(label, video, ref[name])

    print(f"\nEchoMimic v1 parity, float32 on CPU, full-size models, max |ours - reference| (tolerance {TOLERANCE:g}):")
    width = max(len(r[0]) for r in rows)
    for name, diff, scale in rows:
        print(f"  {name:<{width}}  {diff:.2e}   (max |reference| {scale:.3g})  {'ok' if diff <= TOLERANCE else 'FAIL'}")
    return 0 if all(diff <= TOLERANCE for _, diff, _ in rows) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="folder holding EchoMimic's src/ and configs/")
    parser.add_argument("--site", required=True, help="pip --target folder with diffusers 0.24.0 and friends")
    parser.add_argument("--workdir", default="/tmp/emo-parity")
    parser.add_argument("--frames", type=int, default=16, help="more than 12, so that windows overlap and wrap")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (latents: size / 8)")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--timestep", type=int, default=499)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--side", choices=["reference"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    if args.side == "reference":
        run_reference(args)
        return 0

    from transformers import WhisperFeatureExtractor

    work = Path(args.workdir)
    stubs = work / "stubs" / "xformers"
    stubs.mkdir(parents=True, exist_ok=True)
    (stubs / "__init__.py").touch()  # the reference imports xformers by name only; an empty module is enough on CPU
    np.savez(work / "inputs.npz", **make_inputs(args))
    np.save(work / "mel_filters.npy", WhisperFeatureExtractor().mel_filters.T.astype(np.float32))
    start = time.time()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([args.site, str(work / "stubs"), args.reference]))
    subprocess.run([sys.executable, __file__, "--side", "reference", *sys.argv[1:]], env=env, check=True)
    print(f"reference side: {time.time() - start:.0f} s", flush=True)
    start = time.time()
    status = compare(args)
    print(f"our side: {time.time() - start:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
