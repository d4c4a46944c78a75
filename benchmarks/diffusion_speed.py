"""GPU seconds per second of video for the diffusion engine, and its memory peak.

Full-size EchoMimic v1 models with random weights (no download: speed does not depend on the values), 512 x 512,
6 steps without guidance (the accelerated weights' setting), 12-frame windows overlapping by 3, VAE decoding in
chunks of 16 frames. Prints every run and the medians.

    python benchmarks/diffusion_speed.py                 # on a CUDA GPU
    python benchmarks/diffusion_speed.py --tiny          # smoke check of this script on CPU, tiny models
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import torch

FPS = 25
FULL = dict(unet={}, face={}, whisper=dict(d_model=384, encoder_layers=4, encoder_attention_heads=6,
                                           encoder_ffn_dim=1536),
            vae=dict(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                     up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2))
TINY = dict(unet=dict(block_out_channels=(32, 64), layers_per_block=1, attention_heads=2, norm_groups=8),
            face=dict(out_channels=32, block_out_channels=(8, 16)),
            whisper=dict(d_model=16, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=32),
            vae=dict(block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
                     up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=8))


def build(sizes: dict, device: str, dtype: torch.dtype):
    from diffusers import AutoencoderKL
    from transformers import WhisperConfig

    from emo.diffusion.audio_encoder import AudioEncoder
    from emo.diffusion.denoising_unet import DenoisingUNet
    from emo.diffusion.face_locator import FaceLocator
    from emo.diffusion.pipeline import EchoMimicPipeline, make_scheduler
    from emo.diffusion.reference_net import ReferenceNet
    from emo.diffusion.weights import to_device

    whisper = WhisperConfig(num_mel_bins=80, max_source_positions=1500, **sizes["whisper"])
    with torch.device(device):  # random init straight on the device
        pipe = EchoMimicPipeline(
            vae=AutoencoderKL(**sizes["vae"]),
            reference_net=ReferenceNet(**sizes["unet"]),
            denoising_unet=DenoisingUNet(audio_dim=whisper.d_model, **sizes["unet"]),
            face_locator=FaceLocator(**sizes["face"]),
            audio_encoder=AudioEncoder.from_config(whisper),
            scheduler=make_scheduler(),
        )
    pipe.set_progress_bar_config(disable=True)
    return to_device(pipe, device, dtype)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the rendered clip")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--dtype", choices=["float16", "bfloat16", "float32"], default="float16")
    parser.add_argument("--tiny", action="store_true", help="tiny random models on CPU: checks the script runs")
    args = parser.parse_args()

    if args.tiny:
        device, dtype, sizes, size = "cpu", torch.float32, TINY, 32
    elif torch.cuda.is_available():
        device, dtype, sizes, size = "cuda", getattr(torch, args.dtype), FULL, args.size
    else:
        print("This benchmark measures GPU time and needs a CUDA GPU; none is visible here. "
              "Run it with --tiny for a CPU smoke check of the script itself.")
        return 2

    pipe = build(sizes, device, dtype)
    frames = round(args.seconds * FPS)
    rng = np.random.default_rng(0)
    portrait = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), np.float32)
    mask[size // 5:size * 4 // 5, size // 4:size * 3 // 4] = 1
    vocals = (0.1 * rng.standard_normal(int(args.seconds * 16_000))).astype(np.float32)

    def render() -> float:
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        pipe(portrait, mask, vocals, frames, FPS, args.steps, generator=torch.manual_seed(0))
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    print(f"{device} ({torch.cuda.get_device_name() if device == 'cuda' else 'tiny models'}), {dtype}, "
          f"{size}x{size}, {args.steps} steps, {frames} frames ({args.seconds:g} s of video)")
    render()  # warm-up: kernels, allocator, cuDNN autotuning
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for run in range(args.runs):
        times.append(render())
        print(f"  run {run + 1}: {times[-1]:.2f} s  = {times[-1] / args.seconds:.2f} s per second of video")
    median = statistics.median(times)
    print(f"median: {median:.2f} s for {args.seconds:g} s of video = {median / args.seconds:.2f} s per second of video")
    if device == "cuda":
        print(f"memory peak: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB allocated, "
              f"{torch.cuda.max_memory_reserved() / 2**30:.2f} GiB reserved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
