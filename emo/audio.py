"""Audio: decode any common format, then measure what drives the face, one value per video frame.

The mouth follows the *voice* (the vocal stem when a preset ships one), never the instruments, and whether it sings
or speaks; head motion follows the *music* (onsets, beats and energy of the mix).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, minimum_filter1d

from . import ffmpeg, settings
from .errors import AudioError
from .messages import Message

SAMPLE_RATE = 16_000  # analysis rate; also what whisper-style audio encoders expect
MIN_SECONDS = 1.0
DECODE_S, DECODE_S_PER_S = 15.0, 0.25  # decoding's time limit: ffmpeg decodes mp3 at ~200x real time here
VOICE_WINDOW, MIX_WINDOW = 1024, 2048  # samples analysed around each video frame: 64 ms, 128 ms
BLOCK = 500  # video frames analysed at a time (20 s)
PITCH_RANGE = (70, 1000)  # Hz: a voice's pitch, speaking or singing
PITCH_DIP = 0.2  # a frame is pitched where its normalised difference (YIN's) dips under this at its period
HELD_SEMITONES, HELD_FRAMES = 1.0, 7  # a note is held where the pitch stays within a semitone for 280 ms
SPOKEN_HELD = (0.10, 0.17)  # share of a voice's pitched frames on held notes: speech under the first (presets and
# real recordings: at most 0.08), song over the second (at least 0.19; Caruso 0.45)
PITCHED = (0.15, 0.25)  # ... judged only if this share of its loud frames is pitched (speech 0.33-0.60); a choir's
# blend of voices is hardly pitched to one period (0.11) and counts as song


# What we decode, by the file's first bytes, and the ffmpeg demuxer that reads it. Nothing else reaches ffmpeg: its
# playlist and script formats (HLS, concat, ...) would make it read other files or wait on a live stream forever.
CONTAINERS = {"wav": "wav", "aiff": "aiff", "mp3": "mp3", "flac": "flac", "ogg": "ogg", "mp4": "mov", "aac": "aac",
              "webm": "matroska"}
FORMATS_HINT = Message("audio.hint")


def sniff_container(head: bytes) -> str | None:
    """The audio container a file starts with ("wav", "mp3", ...; see CONTAINERS), or None for anything else."""
    if head[:3] == b"ID3" and len(head) >= 10:  # an ID3 tag may precede mp3 (and, rarely, flac or aac) data
        after = head[int.from_bytes(bytes(b & 0x7F for b in head[6:10]), "big") + 10:]
        return "mp3" if after[:3] == b"ID3" else sniff_container(after) or "mp3"  # one tag is all we look past
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):  # Apple's uncompressed audio
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":  # ISO media: m4a, mp4, mov, 3gp (drefs to other files stay off in ffmpeg's demuxer)
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: webm and Matroska
        return "webm"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG audio frame sync
        return "aac" if head[1] & 0x06 == 0 else "mp3"  # layer bits 00: AAC in ADTS frames
    return None


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None,
               stop: threading.Event | None = None, start: float = 0.0) -> np.ndarray:
    """Decode an mp3/wav/m4a/ogg/flac/aiff/webm file (from `start` s, at most `max_seconds`) to mono float32 in [-1, 1].

    The container is judged from the file's bytes, then ffmpeg reads only that one local file with that demuxer,
    within a time limit that grows with the clip; `stop` set ends it at once (Cancelled).
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(Message("audio.no_file", name=path.name))
    with open(path, "rb") as file:
        container = sniff_container(file.read(64 * 1024))
    if container is None:
        raise AudioError(Message("audio.unreadable", name=path.name, hint=FORMATS_HINT))
    args = ["-v", "error", "-nostdin", "-protocol_whitelist", "file", "-f", CONTAINERS[container],
            "-ss", f"{start:.3f}", "-i", f"file:{path.resolve()}", "-map", "0:a:0", "-vn", "-ac", "1",
            "-ar", str(sample_rate)]
    if max_seconds is not None:
        args += ["-t", f"{max_seconds:.3f}"]
    timeout = DECODE_S + DECODE_S_PER_S * (settings.current().max_seconds if max_seconds is None else max_seconds)
    try:
        samples = np.frombuffer(ffmpeg.run(args + ["-f", "f32le", "-"], timeout=timeout, stop=stop), np.float32)
    except ffmpeg.FfmpegError as exc:
        raise AudioError(Message("audio.unreadable", name=path.name, hint=FORMATS_HINT)) from exc
    if samples.size == 0 and start == 0:
        raise AudioError(Message("audio.no_sound", name=path.name, least=MIN_SECONDS))
    return np.clip(samples, -1.0, 1.0)


@dataclass(frozen=True)
class AudioFeatures:
    """What the face follows, one value per video frame (all arrays have length `n_frames`)."""

    fps: int
    n_frames: int
    vocals: np.ndarray = field(repr=False)  # 16 kHz mono: the voice the mouth follows (the stem, or the mix)
    mix: np.ndarray = field(repr=False)  # 16 kHz mono: the whole song, for the music-driven motion
    loudness: np.ndarray = field(repr=False)  # voice loudness 0..1 (0 = silent)
    roundness: np.ndarray = field(repr=False)  # 0..1: how much the voice sounds like o/u (rounded lips)
    spread: np.ndarray = field(repr=False)  # 0..1: how much it sounds like i/e (spread lips)
    onset: np.ndarray = field(repr=False)  # 0..1 onset strength of the mix
    beat: np.ndarray = field(repr=False)  # bool: a beat falls on this frame
    energy: np.ndarray = field(repr=False)  # 0..1 loudness of the mix
    sung: float = 1.0  # 0..1: the voice holds notes as singing does (1) or glides through syllables as speech (0)

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps


def fitted(signal: np.ndarray, length: int, delay: int = 0) -> np.ndarray:
    """`signal` starting `delay` samples in, cut or padded with silence to exactly `length` samples; float32."""
    out = np.zeros(length, np.float32)
    part = signal[: max(length - delay, 0)]
    out[delay:delay + len(part)] = part
    return out


def _frames(signal: np.ndarray, first: int, count: int, hop: int, win: int) -> np.ndarray:
    """(count, win) windows centred on the middles of video frames first..first+count, zero-padded at the ends."""
    lo = first * hop + hop // 2 - win // 2
    part = signal[max(lo, 0):lo + hop * (count - 1) + win]
    part = np.pad(part, (max(-lo, 0), hop * (count - 1) + win - max(-lo, 0) - len(part)))
    return np.lib.stride_tricks.sliding_window_view(part, win)[::hop][:count]


def _level(windows: np.ndarray) -> np.ndarray:
    """RMS in dBFS per window."""
    rms = np.sqrt(np.mean(windows.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(rms + 1e-9)


def _normalise_level(db: np.ndarray, floor_db: float = -50.0, span_db: float = 30.0) -> np.ndarray:
    """Map dB to 0..1 relative to the clip's own loud parts, so quiet and loud recordings drive the face alike.

    Anything under an absolute floor counts as silence, so breaths and noise between phrases keep the mouth shut.
    """
    loud = db[db > floor_db]
    if loud.size == 0:
        return np.zeros_like(db, dtype=np.float32)
    top = np.percentile(loud, 95)
    out = np.clip((db - (top - span_db)) / span_db, 0.0, 1.0)
    out[db <= floor_db] = 0.0
    return out.astype(np.float32)


def _spectra(windows: np.ndarray) -> np.ndarray:
    """Magnitude spectra of Hann-windowed frames: the project's one short-time Fourier transform (with `_frames`).

    numpy's FFT, not librosa's stft: importing librosa and its compiled helpers costs ~1.5 s per process, more than
    a 10 s clip's whole budget; the windows are the video frames' own, centred on each frame."""
    return np.abs(np.fft.rfft(windows * np.hanning(windows.shape[1]).astype(np.float32), axis=1)).astype(np.float32)


def _centroid(spec: np.ndarray, sample_rate: int) -> np.ndarray:
    """Where the voice's energy sits between 250 Hz and 3.5 kHz, per frame (Hz)."""
    freqs = np.fft.rfftfreq((spec.shape[1] - 1) * 2, 1 / sample_rate)
    band = (freqs > 250) & (freqs < 3500)
    power = spec[:, band] ** 2
    return (power * freqs[band]).sum(1) / (power.sum(1) + 1e-12)


def _vowel_shape(centroid: np.ndarray, voiced: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Roundness and spread from the voice's spectral centroid.

    Rounded vowels (o, u) pull energy low; spread ones (i, e) carry a strong high second formant. The centroid is
    ranked within the clip so each voice is judged against itself.
    """
    roundness = np.zeros(len(centroid), np.float32)
    spread = np.zeros(len(centroid), np.float32)
    if voiced.sum() >= 3:
        lo, hi = np.percentile(centroid[voiced], [10, 90])
        rank = np.clip((centroid - lo) / max(hi - lo, 1.0), 0, 1)
        roundness[voiced] = np.clip(1 - 2 * rank[voiced], 0, 1)
        spread[voiced] = np.clip(2 * rank[voiced] - 1, 0, 1)
    return roundness, spread


def _pitch(spec: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's pitch (semitones) and whether it is pitched, from its spectrum (`_spectra`): YIN's cumulative
    mean normalised difference, from the autocorrelation with the Hann window's own divided out, at the first dip
    under PITCH_DIP (the plain autocorrelation peak, free to land on a multiple of the period, read two sung presets
    as speech)."""
    win = (spec.shape[1] - 1) * 2
    hann = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(win))) ** 2, n=win)
    lo, hi = sample_rate // PITCH_RANGE[1], sample_rate // PITCH_RANGE[0] + 1
    acf = np.fft.irfft(spec.astype(np.float64) ** 2, n=win)[:, :hi]
    diff = 2 * (1 - acf / np.maximum(acf[:, :1], 1e-12) / (hann[:hi] / hann[0]))
    diff[:, 0] = 0
    cmnd = diff * np.arange(hi) / np.maximum(np.cumsum(diff, axis=1), 1e-12)
    rows = np.arange(len(cmnd))
    dips = cmnd[:, lo:] < PITCH_DIP
    first = np.where(dips.any(1), lo + np.argmax(dips, axis=1), lo + np.argmin(cmnd[:, lo:], axis=1))
    # ... and down that dip to its bottom (within a quarter period)
    near = np.minimum(first[:, None] + np.arange(hi // 4), hi - 1)
    depth = np.where(near <= 1.25 * first[:, None], cmnd[rows[:, None], near], np.inf)
    period = near[rows, np.argmin(depth, axis=1)]
    return 12 * np.log2(sample_rate / period), cmnd[rows, period] < PITCH_DIP


def _sung(semitones: np.ndarray, pitched: np.ndarray, loud: np.ndarray) -> float:
    """How much a voice sings rather than speaks (0..1): singing holds notes, speech glides through syllables."""
    pitched = pitched & loud
    if loud.sum() < HELD_FRAMES or pitched.sum() < HELD_FRAMES:
        return 1.0
    smooth = median_filter(np.where(pitched, semitones, -99.0), size=5)  # (vibrato and stray frames smoothed over)
    spread = maximum_filter1d(smooth, HELD_FRAMES) - minimum_filter1d(smooth, HELD_FRAMES)
    held = (minimum_filter1d(pitched.astype(np.uint8), HELD_FRAMES) == 1) & (spread < HELD_SEMITONES)
    judged = _ramp(pitched.sum() / loud.sum(), *PITCHED)
    return float(1 - judged * (1 - _ramp(held.sum() / pitched.sum(), *SPOKEN_HELD)))


def _ramp(value: float, low: float, high: float) -> float:
    """0 at `low` and under, 1 at `high` and over, straight between."""
    return float(np.clip((value - low) / (high - low), 0, 1))


def _onset_strength(flux: np.ndarray) -> np.ndarray:
    """Spectral flux (see `analyse`) scaled to 0..1: large where notes and drums start."""
    flux = flux - np.median(flux)
    scale = np.percentile(flux, 99)
    return np.clip(flux / scale, 0, 1).astype(np.float32) if scale > 0 else np.zeros(len(flux), np.float32)


def _beats(onset: np.ndarray, fps: int) -> np.ndarray:
    """Beat frames: the tempo (60-180 BPM) that best explains the onsets, phase-aligned to the strongest ones."""
    beat = np.zeros(len(onset), bool)
    lags = np.arange(int(fps * 60 / 180), int(fps * 60 / 60) + 1)
    if len(onset) < 2 * lags[-1] or onset.max() <= 0:
        return beat
    centred = onset - onset.mean()
    ac = np.array([np.dot(centred[:-lag], centred[lag:]) for lag in lags])
    period = int(lags[np.argmax(ac)])
    phase = max(range(period), key=lambda p: onset[p::period].sum())
    for frame in range(phase, len(onset), period):
        lo, hi = max(frame - 2, 0), min(frame + 3, len(onset))
        peak = lo + int(np.argmax(onset[lo:hi]))
        beat[peak] = onset[peak] >= 0.2  # no beat where nothing starts (silence, a held note)
    return beat


def analyse(vocals: np.ndarray, mix: np.ndarray, fps: int = 25, sample_rate: int = SAMPLE_RATE) -> AudioFeatures:
    """Per-frame features from the voice (mouth) and the mix (head motion). The clip's length is the mix's.

    Spectra are taken BLOCK frames at a time, so a five-minute song needs no more memory than a short clip."""
    if len(mix) < MIN_SECONDS * sample_rate:
        raise AudioError(Message("audio.too_short", seconds=len(mix) / sample_rate, least=MIN_SECONDS))
    if np.linalg.norm(mix) / np.sqrt(len(mix)) < 1e-4:  # RMS, with no float64 copy of a whole song
        raise AudioError(Message("audio.silent"))
    n_frames = max(1, round(len(mix) * fps / sample_rate))
    mix_db, flux = _mix_levels(mix, n_frames, sample_rate // fps)
    onset = _onset_strength(flux)
    return _voiced(vocals, mix, fps, n_frames, onset, _beats(onset, fps), _normalise_level(mix_db), sample_rate)


def with_voice(features: AudioFeatures, vocals: np.ndarray, sample_rate: int = SAMPLE_RATE) -> AudioFeatures:
    """`features` of a mix with another voice in it: each face of one track singing its own part (a round, own
    voices) follows its voice, and the mix is not analysed again for each."""
    return _voiced(vocals, features.mix, features.fps, features.n_frames, features.onset, features.beat,
                   features.energy, sample_rate)


def _voiced(vocals, mix, fps, n_frames, onset, beat, energy, sample_rate) -> AudioFeatures:
    """The features: the voice's measured here, the mix's given."""
    if len(vocals) != len(mix):
        vocals = fitted(vocals, len(mix))
    hop = sample_rate // fps
    voice_db, centroid, semitones = (np.empty(n_frames, np.float64) for _ in range(3))
    pitched = np.empty(n_frames, bool)
    for block in _blocks(n_frames):
        windows = _frames(vocals, block.start, block.stop - block.start, hop, VOICE_WINDOW)
        voice_db[block] = _level(windows)
        spec = _spectra(windows)
        centroid[block] = _centroid(spec, sample_rate)
        semitones[block], pitched[block] = _pitch(spec, sample_rate)
    loudness = _normalise_level(voice_db)
    roundness, spread = _vowel_shape(centroid, loudness > 0.05)
    return AudioFeatures(fps=fps, n_frames=n_frames, vocals=vocals, mix=mix, loudness=loudness, roundness=roundness,
                         spread=spread, onset=onset, beat=beat, energy=energy,
                         sung=_sung(semitones, pitched, loudness > 0.3))


def _mix_levels(mix: np.ndarray, n_frames: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """The mix's level (dB) and spectral flux (onsets) per frame."""
    mix_db, flux = np.empty(n_frames, np.float64), np.empty(n_frames, np.float64)
    blocks = _blocks(n_frames)
    spectra = lambda b: _spectra(_frames(mix, b.start, b.stop - b.start, hop, MIX_WINDOW))  # noqa: E731
    reference = max(float(spectra(b).max()) for b in blocks) + 1e-9  # onsets' log scale: a first, cheap pass
    previous = None
    for block in blocks:
        mix_db[block] = _level(_frames(mix, block.start, block.stop - block.start, hop, MIX_WINDOW))
        logmag = np.log1p(100 * spectra(block) / reference)
        steps = np.diff(logmag, axis=0, prepend=logmag[:1] if previous is None else previous[None])
        flux[block] = np.maximum(steps, 0).sum(1)
        previous = logmag[-1]
    return mix_db, flux


def _blocks(n_frames: int) -> list[slice]:
    return [slice(first, min(first + BLOCK, n_frames)) for first in range(0, n_frames, BLOCK)]
