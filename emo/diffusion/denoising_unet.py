"""Denoising 3D U-Net: SD1.5 spatial blocks, audio tokens in the cross-attention, AnimateDiff motion modules.

Its self-attention also attends to the ReferenceNet's tokens of the same block, and the face locator's features are
added right after ``conv_in``. Weights: EchoMimic's ``denoising_unet*.pth`` (spatial) and ``motion_module*.pth``
(every ``*.motion_modules.*`` key) together.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from torch import nn

from .unet_blocks import Conditioning, LayerSpec, SD15UNet


class DenoisingUNet(SD15UNet, ConfigMixin):
    @register_to_config
    def __init__(
        self,
        in_channels: int = 4,
        out_channels: int = 4,
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        layers_per_block: int = 2,
        attention_heads: int = 8,
        norm_groups: int = 32,
        norm_eps: float = 1e-5,
        audio_dim: int = 384,  # whisper-tiny hidden size
        motion_heads: int = 8,
        motion_max_frames: int = 32,  # length of the motion modules' position table: the longest context window
    ):
        super().__init__()
        spec = LayerSpec(temb_channels=block_out_channels[0] * 4, heads=attention_heads, groups=norm_groups,
                         eps=norm_eps, audio_dim=audio_dim, motion_heads=motion_heads,
                         motion_max_frames=motion_max_frames)
        self._build(in_channels, block_out_channels, layers_per_block, spec)
        self.conv_norm_out = nn.GroupNorm(norm_groups, block_out_channels[0], eps=norm_eps)
        self.conv_out = nn.Conv2d(block_out_channels[0], out_channels, 3, padding=1)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | int,
        audio: torch.Tensor,
        reference: dict[str, torch.Tensor],
        face: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predict v for a window of frames.

        sample: (batch, 4, frames, h, w) noisy latents; audio: (batch, frames, tokens, audio_dim);
        reference: the ReferenceNet's output; face: (batch, block_out_channels[0], h, w) from the face locator.
        """
        batch, channels, frames, height, width = sample.shape
        x = sample.transpose(1, 2).reshape(batch * frames, channels, height, width)
        temb = self._time_embedding(timestep, batch, frames, x.dtype)
        x = self.conv_in(x)
        if face is not None:
            x = (x.unflatten(0, (batch, frames)) + face[:, None]).flatten(0, 1)
        cond = Conditioning(num_frames=frames, audio=audio.flatten(0, 1), reference=reference)
        x = self._levels(x, temb, cond)
        x = self.conv_out(F.silu(self.conv_norm_out(x)))
        return x.unflatten(0, (batch, frames)).transpose(1, 2)
