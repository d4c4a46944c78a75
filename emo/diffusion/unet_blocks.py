"""The SD1.5 U-Net layout shared by the ReferenceNet and the denoising U-Net.

Frames are folded into the batch, ``(batch * frames, channels, height, width)``: every spatial layer works frame by
frame, and only the motion modules look across frames. Module names follow diffusers' UNet2DConditionModel (plus
``motion_modules``), so EchoMimic's checkpoints load strictly.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.resnet import Downsample2D, ResnetBlock2D, Upsample2D
from torch import nn

from .motion_module import MotionModule

AUDIO_ATTENTION_SCALE = 3.0  # EchoMimic was trained with the audio cross-attention output multiplied by 3


@dataclass(frozen=True)
class LayerSpec:
    """Sizes every level of one U-Net shares."""

    temb_channels: int
    heads: int  # attention heads of the spatial transformers (SD1.5: 8 at every level)
    groups: int
    eps: float
    audio_dim: int | None  # width of the audio tokens; None = no audio cross-attention (the ReferenceNet)
    motion_heads: int | None  # None = no motion modules (the ReferenceNet)
    motion_max_frames: int


@dataclass
class Conditioning:
    """What the transformer and motion layers need besides the hidden states."""

    num_frames: int = 1
    audio: torch.Tensor | None = None  # (batch * frames, tokens, audio_dim)
    reference: dict[str, torch.Tensor] | None = None  # block name -> (batch, tokens, channels), from the ReferenceNet
    record: dict[str, torch.Tensor] | None = None  # the ReferenceNet stores each block's normalised input here


class TransformerBlock(nn.Module):
    """Self-attention that also sees the reference tokens, optional audio cross-attention, feed-forward."""

    def __init__(self, dim: int, heads: int, audio_dim: int | None):
        super().__init__()
        self.name = ""  # path inside the U-Net; pairs each denoising block with its ReferenceNet twin
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads=heads, dim_head=dim // heads)
        self.norm2 = nn.LayerNorm(dim) if audio_dim else None
        self.attn2 = (Attention(dim, cross_attention_dim=audio_dim, heads=heads, dim_head=dim // heads)
                      if audio_dim else None)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, activation_fn="geglu")

    def forward(self, x: torch.Tensor, cond: Conditioning) -> torch.Tensor:
        h = self.norm1(x)
        if cond.record is not None:
            cond.record[self.name] = h
        if cond.reference is None:
            x = self.attn1(h) + x
        else:
            reference = cond.reference[self.name].to(h.dtype).repeat_interleave(cond.num_frames, dim=0)
            x = self.attn1(h, encoder_hidden_states=torch.cat([h, reference], dim=1)) + x
        if self.attn2 is not None:
            x = self.attn2(self.norm2(x), encoder_hidden_states=cond.audio) * AUDIO_ATTENTION_SCALE + x
        return self.ff(self.norm3(x)) + x


class SpatialTransformer(nn.Module):
    def __init__(self, channels: int, spec: LayerSpec):
        super().__init__()
        self.norm = nn.GroupNorm(spec.groups, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList([TransformerBlock(channels, spec.heads, spec.audio_dim)])
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor, cond: Conditioning) -> torch.Tensor:
        batch, channels, height, width = x.shape
        h = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(batch, height * width, channels)
        for block in self.transformer_blocks:
            h = block(h, cond)
        h = h.reshape(batch, height, width, channels).permute(0, 3, 1, 2)
        return self.proj_out(h) + x


class Level(nn.Module):
    """One resolution: resnets, each followed by an optional spatial transformer and motion module, then a resample.

    Going down, every output is pushed on the skip stack; going up, each resnet first takes one from it.
    """

    def __init__(self, in_channels: list[int], out_channels: int, spec: LayerSpec, attention: bool,
                 resample: str | None, up: bool):
        super().__init__()
        self.up = up
        self.resnets = nn.ModuleList(
            ResnetBlock2D(in_channels=c, out_channels=out_channels, temb_channels=spec.temb_channels,
                          groups=spec.groups, eps=spec.eps)
            for c in in_channels)
        self.attentions = nn.ModuleList(SpatialTransformer(out_channels, spec) for _ in in_channels if attention)
        self.motion_modules = nn.ModuleList(
            MotionModule(out_channels, spec.motion_heads, spec.motion_max_frames, spec.groups)
            for _ in in_channels if spec.motion_heads)
        self.downsamplers = nn.ModuleList(
            [Downsample2D(out_channels, use_conv=True, out_channels=out_channels, padding=1, name="op")]
            if resample == "down" else [])
        self.upsamplers = nn.ModuleList(
            [Upsample2D(out_channels, use_conv=True, out_channels=out_channels)] if resample == "up" else [])

    def forward(self, x: torch.Tensor, temb: torch.Tensor, cond: Conditioning, skips: list[torch.Tensor]):
        for i, resnet in enumerate(self.resnets):
            if self.up:
                x = torch.cat([x, skips.pop()], dim=1)
            x = resnet(x, temb)
            if self.attentions:
                x = self.attentions[i](x, cond)
            if self.motion_modules:
                x = self.motion_modules[i](x, cond.num_frames)
            if not self.up:
                skips.append(x)
        for down in self.downsamplers:
            x = down(x)
            skips.append(x)
        for upsample in self.upsamplers:
            # the next skip's size, so that odd latent sizes come back exactly
            x = upsample(x, output_size=skips[-1].shape[-2:])
        return x


class MidLevel(nn.Module):
    def __init__(self, channels: int, spec: LayerSpec):
        super().__init__()
        self.resnets = nn.ModuleList(
            ResnetBlock2D(in_channels=channels, out_channels=channels, temb_channels=spec.temb_channels,
                          groups=spec.groups, eps=spec.eps)
            for _ in range(2))
        self.attentions = nn.ModuleList([SpatialTransformer(channels, spec)])
        self.motion_modules = nn.ModuleList(
            [MotionModule(channels, spec.motion_heads, spec.motion_max_frames, spec.groups)]
            if spec.motion_heads else [])

    def forward(self, x: torch.Tensor, temb: torch.Tensor, cond: Conditioning) -> torch.Tensor:
        x = self.attentions[0](self.resnets[0](x, temb), cond)
        if self.motion_modules:
            x = self.motion_modules[0](x, cond.num_frames)
        return self.resnets[1](x, temb)


class SD15UNet(ModelMixin):
    """conv_in, the time embedding and the down/mid/up levels; subclasses add their own inputs and outputs."""

    def _build(self, in_channels: int, block_out_channels: tuple[int, ...], layers_per_block: int, spec: LayerSpec):
        ch = list(block_out_channels)
        self.conv_in = nn.Conv2d(in_channels, ch[0], 3, padding=1)
        self.time_proj = Timesteps(ch[0], flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(ch[0], spec.temb_channels)

        skip_channels = [ch[0]]  # what the down path will push, replayed to size the up path
        self.down_blocks = nn.ModuleList()
        for i, out in enumerate(ch):
            last = i == len(ch) - 1
            ins = [ch[max(i - 1, 0)]] + [out] * (layers_per_block - 1)
            self.down_blocks.append(
                Level(ins, out, spec, attention=not last, resample=None if last else "down", up=False))
            skip_channels += [out] * (layers_per_block + (0 if last else 1))
        self.mid_block = MidLevel(ch[-1], spec)
        self.up_blocks = nn.ModuleList()
        prev = ch[-1]
        for i, out in enumerate(reversed(ch)):
            ins = [(prev if j == 0 else out) + skip_channels.pop() for j in range(layers_per_block + 1)]
            last = i == len(ch) - 1
            self.up_blocks.append(Level(ins, out, spec, attention=i > 0, resample=None if last else "up", up=True))
            prev = out
        for name, module in self.named_modules():
            if isinstance(module, TransformerBlock):
                module.name = name

    def _time_embedding(self, timestep, batch: int, num_frames: int, dtype: torch.dtype) -> torch.Tensor:
        t = torch.as_tensor(timestep, device=self.conv_in.weight.device).reshape(-1).expand(batch)
        emb = self.time_embedding(self.time_proj(t).to(dtype))
        return emb.repeat_interleave(num_frames, dim=0)

    def _levels(self, x: torch.Tensor, temb: torch.Tensor, cond: Conditioning) -> torch.Tensor:
        skips = [x]
        for level in self.down_blocks:
            x = level(x, temb, cond, skips)
        x = self.mid_block(x, temb, cond)
        for level in self.up_blocks:
            x = level(x, temb, cond, skips)
        return x
