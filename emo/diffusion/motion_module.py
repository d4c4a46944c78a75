"""AnimateDiff-style motion module: attention across the frames of a window, at every pixel on its own.

Hidden states come in with the frames folded into the batch, ``(batch * frames, channels, height, width)``, like
everywhere else in our U-Nets; only here is the frame axis unfolded.
"""
from __future__ import annotations

import torch
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from diffusers.models.embeddings import SinusoidalPositionalEmbedding
from torch import nn


class TemporalAttention(Attention):
    """Self-attention over the frame axis, with sinusoidal frame positions added to its input."""

    def __init__(self, dim: int, heads: int, max_frames: int):
        super().__init__(dim, heads=heads, dim_head=dim // heads)
        self.pos_encoder = SinusoidalPositionalEmbedding(dim, max_seq_length=max_frames)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        frames_batch, pixels, channels = x.shape
        # (b f) d c -> (b d) f c: one sequence of frames per pixel
        seq = x.reshape(-1, num_frames, pixels, channels).transpose(1, 2).reshape(-1, num_frames, channels)
        seq = super().forward(self.pos_encoder(seq))
        return seq.reshape(-1, pixels, num_frames, channels).transpose(1, 2).reshape(frames_batch, pixels, channels)


class TemporalBlock(nn.Module):
    def __init__(self, dim: int, heads: int, max_frames: int, num_attentions: int = 2):
        super().__init__()
        self.attention_blocks = nn.ModuleList(TemporalAttention(dim, heads, max_frames) for _ in range(num_attentions))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(num_attentions))
        self.ff = FeedForward(dim, activation_fn="geglu")
        self.ff_norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        for attention, norm in zip(self.attention_blocks, self.norms):
            x = attention(norm(x), num_frames) + x
        return self.ff(self.ff_norm(x)) + x


class TemporalTransformer(nn.Module):
    def __init__(self, channels: int, heads: int, max_frames: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels)
        self.transformer_blocks = nn.ModuleList([TemporalBlock(channels, heads, max_frames)])
        self.proj_out = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        batch, channels, height, width = x.shape
        h = self.norm(x).permute(0, 2, 3, 1).reshape(batch, height * width, channels)
        h = self.proj_in(h)
        for block in self.transformer_blocks:
            h = block(h, num_frames)
        h = self.proj_out(h)
        return h.reshape(batch, height, width, channels).permute(0, 3, 1, 2) + x


class MotionModule(nn.Module):
    """One AnimateDiff motion module; the wrapper level exists so that checkpoint key names match."""

    def __init__(self, channels: int, heads: int = 8, max_frames: int = 32, groups: int = 32):
        super().__init__()
        self.temporal_transformer = TemporalTransformer(channels, heads, max_frames, groups)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        return self.temporal_transformer(x, num_frames)
