"""Audio tokens for each video frame from whisper-tiny's encoder (transformers).

As EchoMimic does: the log-mel spectrogram of the whole clip is cut into 30 s pieces; each piece goes through the
encoder, keeping the input embedding and the output of every layer (5 x 384 at 50 per second, before the final
layer norm); frame i then takes the 10 positions around 50 * i / fps, i.e. 50 tokens of 384.
"""
from __future__ import annotations

import numpy as np
import torch
from diffusers.models.modeling_utils import ModelMixin
from torch import nn
from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel
from transformers.models.whisper.modeling_whisper import WhisperEncoder

SAMPLE_RATE = 16_000
N_FFT, HOP = 400, 160
SEGMENT = 3000  # mel frames per encoder pass (30 s)
WINDOW = (-4, 6)  # whisper positions around each video frame: two 50 Hz steps either side, plus the frame's own


class AudioEncoder(ModelMixin):
    def __init__(self, encoder: WhisperEncoder):
        super().__init__()
        self.encoder = encoder
        mel = WhisperFeatureExtractor(feature_size=encoder.config.num_mel_bins).mel_filters  # (n_fft/2+1, n_mels)
        # a plain attribute, not a buffer: it stays float32 when the model is cast to half precision
        self.mel_filters = torch.from_numpy(np.asarray(mel, np.float32)).T.contiguous()

    @classmethod
    def from_pretrained(cls, path: str) -> "AudioEncoder":
        """Load the encoder half of a transformers Whisper checkpoint (openai/whisper-tiny)."""
        return cls(WhisperModel.from_pretrained(path).encoder)

    @classmethod
    def from_config(cls, config: WhisperConfig) -> "AudioEncoder":
        return cls(WhisperEncoder(config))

    @property
    def dim(self) -> int:
        return self.encoder.config.d_model

    def log_mel(self, waveform: torch.Tensor) -> torch.Tensor:
        """Whisper's log-mel of the whole clip (normalised against the clip's own maximum): (n_mels, frames)."""
        stft = torch.stft(waveform, N_FFT, HOP, window=torch.hann_window(N_FFT, device=waveform.device),
                          return_complex=True)
        power = stft[:, :-1].abs() ** 2
        log_spec = torch.clamp(self.mel_filters.to(power.device) @ power, min=1e-10).log10()
        log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
        return (log_spec + 4.0) / 4.0

    def hidden_states(self, mel: torch.Tensor) -> torch.Tensor:
        """(batch, n_mels, 3000) -> (batch, 1500, layers + 1, dim): the embedding and every layer's output."""
        enc = self.encoder
        x = nn.functional.gelu(enc.conv1(mel))
        x = nn.functional.gelu(enc.conv2(x)).permute(0, 2, 1)
        x = x + enc.embed_positions.weight[: x.shape[1]]
        states = [x]
        for layer in enc.layers:
            x = layer(x, None)
            states.append(x)
        return torch.stack(states, dim=2)

    @torch.no_grad()
    def forward(self, waveform: np.ndarray | torch.Tensor, num_frames: int, fps: int) -> torch.Tensor:
        """16 kHz mono waveform -> (num_frames, 10 * (layers + 1), dim) audio tokens."""
        device, dtype = self.encoder.conv1.weight.device, self.encoder.conv1.weight.dtype
        waveform = torch.as_tensor(np.asarray(waveform, np.float32), device=device)
        mel = self.log_mel(waveform)
        pieces = [mel[:, start:start + SEGMENT] for start in range(0, mel.shape[1], SEGMENT)]
        batch = torch.stack([nn.functional.pad(p, (0, SEGMENT - p.shape[1])) for p in pieces])
        states = self.hidden_states(batch.to(dtype))
        # each piece keeps the positions its real (unpadded) audio covers; the encoder halves the rate
        feats = torch.cat([s[: p.shape[1] // 2] for s, p in zip(states, pieces)])
        centers = torch.arange(num_frames, device=device) * 50 // fps
        idx = (centers[:, None] + torch.arange(*WINDOW, device=device)).clamp(0, len(feats) - 1)
        return feats[idx].reshape(num_frames, -1, self.dim)
