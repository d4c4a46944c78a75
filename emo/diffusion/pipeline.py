"""EchoMimicPipeline: portrait + face-box mask + vocals -> video frames.

1. whisper-tiny tokens for every frame; the portrait's latents through the ReferenceNet, once per video; the face
   mask through the face locator, once.
2. DDIM (v-prediction, zero-SNR betas, trailing spacing) over all frames' latents; at every step the frames are
   denoised in overlapping windows of ``context_frames`` and each frame's prediction is averaged over the windows
   that contain it. As in EchoMimic, windows wrap round the end of the clip and move by 2 frames per step, so that
   their seams never stay in one place.
3. The VAE decodes the latents in chunks of frames.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch
from diffusers import AutoencoderKL, DDIMScheduler, DiffusionPipeline
from diffusers.utils.torch_utils import randn_tensor

from .audio_encoder import AudioEncoder
from .denoising_unet import DenoisingUNet
from .face_locator import FaceLocator
from .reference_net import ReferenceNet

WINDOW_SHIFT_PER_STEP = 2


def make_scheduler() -> DDIMScheduler:
    """The DDIM schedule EchoMimic was trained for."""
    return DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False,
                         steps_offset=1, prediction_type="v_prediction", rescale_betas_zero_snr=True,
                         timestep_spacing="trailing")


def context_windows(num_frames: int, size: int, overlap: int, shift: int) -> list[list[int]]:
    """Frame indices of each window: ``size`` frames every ``size - overlap``, wrapping round, moved by ``shift``."""
    if num_frames <= size:
        starts, size = [0], num_frames
    else:
        starts = range(0, num_frames, size - overlap)
    return [[(s + k + shift) % num_frames for k in range(size)] for s in starts]


class EchoMimicPipeline(DiffusionPipeline):
    model_cpu_offload_seq = "audio_encoder->reference_net->face_locator->denoising_unet->vae"

    def __init__(self, vae: AutoencoderKL, reference_net: ReferenceNet, denoising_unet: DenoisingUNet,
                 face_locator: FaceLocator, audio_encoder: AudioEncoder, scheduler: DDIMScheduler):
        super().__init__()
        self.register_modules(vae=vae, reference_net=reference_net, denoising_unet=denoising_unet,
                              face_locator=face_locator, audio_encoder=audio_encoder, scheduler=scheduler)
        self.vae_scale_factor = 2 ** (len(vae.config.block_out_channels) - 1)

    def encode_portrait(self, portrait: np.ndarray) -> torch.Tensor:
        """(H, W, 3) uint8 RGB -> (1, 4, H/8, W/8) scaled latents (the distribution's mean: no noise)."""
        image = torch.from_numpy(np.array(portrait, np.uint8)).permute(2, 0, 1)[None]
        image = (image.float() / 255.0 * 2.0 - 1.0).to(self._execution_device, self.vae.dtype)
        return self.vae.encode(image).latent_dist.mean * self.vae.config.scaling_factor

    @torch.no_grad()
    def decode_latents(self, latents: torch.Tensor, chunk_size: int = 16) -> Iterator[torch.Tensor]:
        """(1, 4, F, h, w) latents -> chunks of (n, 3, H, W) float images in [0, 1], n <= chunk_size."""
        latents = latents[0].transpose(0, 1) / self.vae.config.scaling_factor
        for start in range(0, latents.shape[0], chunk_size):
            images = self.vae.decode(latents[start:start + chunk_size].to(self.vae.dtype)).sample
            yield (images.float() / 2 + 0.5).clamp(0, 1)

    @torch.no_grad()
    def __call__(
        self,
        portrait: np.ndarray,
        face_mask: np.ndarray,
        vocals: np.ndarray,
        num_frames: int,
        fps: int = 25,
        num_inference_steps: int = 6,
        guidance_scale: float = 1.0,
        context_frames: int = 12,
        context_overlap: int = 3,
        generator: torch.Generator | None = None,
        progress: Callable[[int, int], None] | None = None,
        callback_on_step_end: Callable | None = None,
        decode_chunk_size: int = 16,
        output_type: str = "np",
    ):
        """Render ``num_frames`` frames.

        portrait: (H, W, 3) uint8 RGB, H and W multiples of 8; face_mask: (H, W) in [0, 1], 1 where the face may be;
        vocals: 16 kHz mono float waveform. ``guidance_scale`` > 1 adds an unconditional pass (no audio, no face
        box, no reference), as the 30-step weights expect; the accelerated weights use 1. ``progress(done, total)``
        counts window passes. ``output_type``: "np" (F, H, W, 3) uint8, "pt" (F, 3, H, W) float in [0, 1], or
        "latent" (1, 4, F, h, w) for ``decode_latents``.
        """
        device, dtype = self._execution_device, self.denoising_unet.dtype
        if context_frames > self.denoising_unet.config.motion_max_frames:
            raise ValueError(f"context_frames must be at most {self.denoising_unet.config.motion_max_frames}")
        audio = self.audio_encoder(vocals, num_frames, fps).to(dtype)
        # EchoMimic keeps the reference tokens in float16 whatever the run's precision; rounding them the same way
        # keeps float32 results equal to the reference implementation (and it halves their memory)
        reference = {name: feature.half() for name, feature in
                     self.reference_net(self.encode_portrait(portrait).to(dtype)).items()}
        mask = torch.as_tensor(np.asarray(face_mask, np.float32), device=device)[None, None]
        face = self.face_locator(mask.to(self.face_locator.dtype)).to(dtype)

        self.scheduler.set_timesteps(num_inference_steps, device=device)
        height, width = portrait.shape[0] // self.vae_scale_factor, portrait.shape[1] // self.vae_scale_factor
        latents = randn_tensor((1, self.denoising_unet.config.in_channels, num_frames, height, width),
                               generator=generator, device=device, dtype=dtype)
        latents = latents.clamp(-1.5, 1.5) * self.scheduler.init_noise_sigma

        n_windows = len(context_windows(num_frames, context_frames, context_overlap, 0))
        total, done = n_windows * len(self.scheduler.timesteps), 0
        with self.progress_bar(total=total) as bar:
            for i, t in enumerate(self.scheduler.timesteps):
                velocity = torch.zeros_like(latents)
                count = torch.zeros((1, 1, num_frames, 1, 1), device=device, dtype=dtype)
                for window in context_windows(num_frames, context_frames, context_overlap, WINDOW_SHIFT_PER_STEP * i):
                    idx = torch.tensor(window, device=device)
                    x = self.scheduler.scale_model_input(latents[:, :, idx], t)
                    pred = self.denoising_unet(x, t, audio[idx][None], reference, face)
                    if guidance_scale > 1.0:
                        uncond = self.denoising_unet(x, t, torch.zeros_like(audio[idx][None]), None, None)
                        pred = uncond + guidance_scale * (pred - uncond)
                    velocity[:, :, idx] += pred
                    count[:, :, idx] += 1
                    done += 1
                    bar.update()
                    if progress is not None:
                        progress(done, total)
                latents = self.scheduler.step(velocity / count, t, latents, generator=generator).prev_sample
                if callback_on_step_end is not None:
                    callback_on_step_end(self, i, t, {"latents": latents})

        if output_type == "latent":
            return latents
        images = torch.cat(list(self.decode_latents(latents, decode_chunk_size)))
        if output_type == "pt":
            return images
        return (images * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
