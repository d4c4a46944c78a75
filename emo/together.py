"""Sing together: 2-4 photos side by side, or every face of one group photo, sing one song in an arrangement.

The flow is the single photo's, once per face: each face gets its own voice features (arrange.py) and motion plan
(its own seed, so heads and blinks do not move in step), the CPU engine animates each face's square, and the stage
(group.py) lays the squares back into one picture. One audio track: the song as it is (together, turns), a round
made from its voice and accompaniment, or the faces' own clips mixed.
"""
from __future__ import annotations

import tempfile
import threading
import wave
from pathlib import Path

import numpy as np

from . import arrange, group
from . import audio as audio_mod
from . import motion as motion_mod
from .engines import RenderJob, load_engine
from .errors import Cancelled, UserError
from .messages import Message
from .pipeline import (Progress, SingOptions, SingResult, SongInput, checked, encode, frame_reporter, load_song,
                       prepare_audio, quoted, resolve_song, silent)
from .separate import resample

ENGINE = "warp"  # several faces are the CPU engine's: one GPU video per face would not fit a ZeroGPU window
OUT_RATE = 44_100  # a track we mix ourselves (round, voices) is written at this rate
ROUND_BEATS = (1, 32)  # how many beats apart a round's voices may enter


def sing_together(photos: list, song: str | Path | None = None, *, arrangement: str = "together",
                  voices: list | None = None, round_beats: int = 8, motion: float = 0.5, seed: int = 0,
                  start: float | str = 0.0, end: float | str | None = None, out: str | Path | None = None,
                  progress: Progress | None = None, stop: threading.Event | None = None) -> SingResult:
    """Make one video in which the faces of `photos` (2-4 photos, or one group photo) sing.

    `song` is a preset id or an audio file, sung from `start` to `end` (all arrangements but "voices");
    `arrangement` is together, turns, round (voices `round_beats` apart) or voices (`voices`: one audio file per
    face, in the faces' order). Progress, `stop` and the result are as `sing`'s.
    """
    options = SingOptions(engine=ENGINE, motion=motion, seed=seed, start=start, end=end)
    if arrangement not in arrange.ARRANGEMENTS:
        raise UserError(Message("together.arrangement", got=str(arrangement)[:40],
                                choices=", ".join(arrange.ARRANGEMENTS)))
    if arrangement != "voices" and song is None:
        raise UserError(Message("together.no_song"))
    if arrangement == "voices" and not voices:
        raise UserError(Message("together.voices_needed"))
    if isinstance(round_beats, bool) or not isinstance(round_beats, int) or not (
            ROUND_BEATS[0] <= round_beats <= ROUND_BEATS[1]):
        raise UserError(Message("together.round_beats", least=ROUND_BEATS[0], most=ROUND_BEATS[1],
                                got=quoted(round_beats)))
    report = silent(progress)
    report(0.0, Message("progress.faces"))
    stage = group.stage_of(photos)
    notices = list(stage.notices)

    report(0.04, Message("progress.song"))
    separating = lambda done: report(0.04 + 0.05 * done, Message("progress.separating", done=done))  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="emo-together-") as tmp:
        features, turns, track, track_start = _audio(arrangement, song, voices, len(stage.singers), options,
                                                     round_beats, notices, stop, separating, Path(tmp))
        plans = [motion_mod.plan(f, options.motion, options.seed + i) for i, f in enumerate(features)]
        if turns:
            plans = [arrange.listening(plan, turn, options.fps) for plan, turn in zip(plans, turns)]

        report(0.09, Message("progress.engine", engine=ENGINE))
        engine = load_engine(ENGINE)
        jobs = [RenderJob(s.portrait, s.face, f, p, options.seed + i, s.others)
                for i, (s, f, p) in enumerate(zip(stage.singers, features, plans))]
        n_frames, fps = jobs[0].n_frames, jobs[0].fps
        out = encode(_composed(stage, engine, jobs, report, stop), out, fps, n_frames, track, track_start,
                     engine.name, report)
    return SingResult(out, engine.name, n_frames / fps, n_frames, tuple(dict.fromkeys(notices)))


def _composed(stage: group.Stage, engine, jobs: list[RenderJob], report, stop: threading.Event | None):
    """The stage, frame by frame, with every face's frame laid in."""
    streams = [checked(engine.render(job, lambda done, total: None), job) for job in jobs]
    total, on_frame = jobs[0].n_frames, frame_reporter(report, stop)
    for done in range(1, total + 1):
        if stop is not None and stop.is_set():
            raise Cancelled()
        yield stage.compose([next(stream) for stream in streams])
        on_frame(done, total)


def _audio(arrangement: str, song, voices, singers: int, options: SingOptions, round_beats: int,
           notices: list[str], stop, separating, tmp: Path):
    """Per face, the features it follows; in turns, when each face sings (else None); the track to mux, and where
    in it to start."""
    if arrangement in ("together", "turns"):
        song_in = resolve_song(song)
        features = prepare_audio(song_in, options, notices, stop, separating)
        if arrangement == "together":
            return [features] * singers, None, song_in.mix, options.start
        turns = arrange.turns(features, singers)
        return [arrange.sings_only(features, turn) for turn in turns], turns, song_in.mix, options.start
    if arrangement == "round":
        voice, mix = load_song(resolve_song(song), options, notices, stop, separating, sample_rate=OUT_RATE)
        voice = audio_mod.fitted(voice, len(mix))
        period = arrange.beat_seconds(audio_mod.analyse(_analysis_rate(voice), _analysis_rate(mix), options.fps))
        lag_frames = max(1, round(round_beats * period * options.fps))
        entries = [k * lag_frames * OUT_RATE // options.fps for k in range(singers)]
        track = arrange.round_track(voice, mix - voice, entries)
        notices.append(Message("together.round", beats=round_beats, seconds=lag_frames / options.fps))
        voices_in = [audio_mod.fitted(voice, len(track), entry) for entry in entries]
    else:
        if len(voices) != singers:
            raise UserError(Message("together.voices_count", faces=singers, clips=len(voices)))
        clip_options = SingOptions(engine=ENGINE, motion=options.motion, seed=options.seed)
        parts = []
        for i, clip in enumerate(voices):
            path = Path(clip)
            try:
                parts.append(load_song(SongInput(path.stem, path, path), clip_options, notices, stop, separating,
                                       sample_rate=OUT_RATE))
            except UserError as err:
                raise type(err)(Message("together.voice_n", number=i + 1, reason=err.args[0])) from err
        track = arrange.mixed([mix for _, mix in parts])
        voices_in = [audio_mod.fitted(voice, len(track)) for voice, _ in parts]
    path = tmp / "track.wav"
    _write_wav(path, track)
    # One track: its mix is analysed once, and each face follows its own voice in it.
    first = audio_mod.analyse(_analysis_rate(voices_in[0]), _analysis_rate(track), options.fps)
    return [first, *(audio_mod.with_voice(first, _analysis_rate(v)) for v in voices_in[1:])], None, path, 0.0


def _analysis_rate(signal: np.ndarray) -> np.ndarray:
    return resample(signal, OUT_RATE, audio_mod.SAMPLE_RATE)


def _write_wav(path: Path, track: np.ndarray) -> None:
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(OUT_RATE)
        file.writeframes((np.clip(track, -1, 1) * 32767).astype("<i2").tobytes())
