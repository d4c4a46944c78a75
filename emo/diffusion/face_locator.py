"""Face locator: a small conv net that turns the face-box mask into features added after the U-Net's conv_in.

This is EMO's "weak control": only the region the face may move in, no landmarks.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class FaceLocator(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(
        self,
        out_channels: int = 320,  # the denoising U-Net's first block width
        in_channels: int = 1,
        block_out_channels: tuple[int, ...] = (16, 32, 96, 256),  # one stride-2 step per VAE downscale
    ):
        super().__init__()
        ch = block_out_channels
        self.conv_in = nn.Conv2d(in_channels, ch[0], 3, padding=1)
        self.blocks = nn.ModuleList()
        for c_in, c_out in zip(ch[:-1], ch[1:]):
            self.blocks.append(nn.Conv2d(c_in, c_in, 3, padding=1))
            self.blocks.append(nn.Conv2d(c_in, c_out, 3, padding=1, stride=2))
        self.conv_out = nn.Conv2d(ch[-1], out_channels, 3, padding=1)

    def forward(self, mask: torch.Tensor) -> torch.Tensor:
        """(batch, 1, H, W) mask in [0, 1] at image size -> (batch, out_channels, H / 8, W / 8)."""
        x = F.silu(self.conv_in(mask))
        for conv in self.blocks:
            x = F.silu(conv(x))
        return self.conv_out(x)
