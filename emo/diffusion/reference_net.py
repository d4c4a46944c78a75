"""ReferenceNet: an SD1.5 U-Net copy that reads the portrait once per video.

It never predicts anything: its output is the normalised input of every transformer block (the tokens the
denoising U-Net's self-attention will also attend to). So it has no audio cross-attention and no output head.
"""
from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config

from .unet_blocks import Conditioning, LayerSpec, SD15UNet


class ReferenceNet(SD15UNet, ConfigMixin):
    @register_to_config
    def __init__(
        self,
        in_channels: int = 4,
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        layers_per_block: int = 2,
        attention_heads: int = 8,
        norm_groups: int = 32,
        norm_eps: float = 1e-5,
    ):
        super().__init__()
        spec = LayerSpec(temb_channels=block_out_channels[0] * 4, heads=attention_heads, groups=norm_groups,
                         eps=norm_eps, audio_dim=None, motion_heads=None, motion_max_frames=0)
        self._build(in_channels, block_out_channels, layers_per_block, spec)

    def forward(self, latents: torch.Tensor, timestep: int = 0) -> dict[str, torch.Tensor]:
        """(batch, 4, h, w) portrait latents -> {transformer block name: (batch, h*w at its level, channels)}."""
        features: dict[str, torch.Tensor] = {}
        temb = self._time_embedding(timestep, latents.shape[0], 1, latents.dtype)
        self._levels(self.conv_in(latents), temb, Conditioning(record=features))
        return features
