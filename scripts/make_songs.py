"""Generate the preset song library in assets/songs/ (offline, deterministic), then check it.

Run from the repository root:

    apt-get install -y espeak-ng fluidsynth fluid-soundfont-gm
    python3.11 -m venv .venv-songs
    .venv-songs/bin/pip install -r scripts/requirements-songs.txt
    .venv-songs/bin/python scripts/make_songs.py                  # every preset
    .venv-songs/bin/python scripts/make_songs.py twinkle-twinkle  # only the named presets

For each preset it writes assets/songs/<id>/mix.flac, vocals.flac (mono, 32 kHz, 16-bit, same length) and song.json,
and rewrites assets/songs/README.md. It then reads the files back and exits 1 when a check fails (pitch of the sung
notes, loudness, peak, duration, voice start). Re-running with the same espeak-ng, fluidsynth and soundfont gives
byte-identical files: nothing random, no timestamps.

Sung presets: public-domain melodies written here as (syllable, note, beats). Each syllable is spoken by espeak-ng,
analysed with the WORLD vocoder, its vowel stretched to the note and its leading consonant put just before the beat;
every phrase is then resynthesised once along a pitch curve of notes, short glides and light vibrato.
Spoken presets: our own lines read by espeak-ng. Backings: MIDI built here, rendered by fluidsynth with the FluidR3 GM
soundfont (MIT); without a soundfont, pretty_midi's sine synth stands in (and the files will differ).
"""
from __future__ import annotations

import argparse
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi
import pyloudnorm
import pyworld
import soundfile
from scipy.ndimage import minimum_filter1d
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "assets" / "songs"
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

SR = 32_000
FRAME_MS = 5.0
HOP = int(SR * FRAME_MS / 1000)  # samples per WORLD frame
TARGET_LUFS = -14.0
PEAK_DBFS = -1.0
VOICE_OVER_BACKING_DB = {"sung": 5.0, "spoken": 12.0}  # a spoken line sits on a light bed
TAIL_S = 0.6  # the backing rings out after its last beat
LEAD_MAX_S = 0.09  # longest consonant allowed before the beat, so the voice starts within 0.1 s of voicing
VOICE_DBFS = -45.0  # a 10 ms window of the stem louder than this counts as voice

SUNG_METHOD = ("written out here as notes and sung by espeak-ng syllables resynthesised to the melody with the WORLD "
               "vocoder, over a MIDI backing rendered by fluidsynth with the FluidR3 GM soundfont (MIT)")
SPOKEN_METHOD = "read by espeak-ng over a MIDI bed rendered by fluidsynth with the FluidR3 GM soundfont (MIT)"


def db_to_gain(db: float) -> float:
    return 10 ** (db / 20)


# ---------------------------------------------------------------------------------------------------------------------
# The presets

@dataclass(frozen=True)
class Layer:
    program: int  # General MIDI program
    pattern: str  # pad | block | arp | waltz | bass | hits
    velocity: int = 70


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    language: str  # en | zh
    kind: str  # sung | spoken
    lyrics: str  # as shown to people, in the original script
    source: str  # where the melody and words come from (first half of the provenance sentence)
    voice: str  # espeak-ng voice
    bpm: float
    chords: str  # "C:4 G7:2 N:1": chord and beats, from the very start; N = no chord (rest)
    layers: tuple[Layer, ...]
    drums: str = "none"  # none | soft | tambourine
    lead: str = ""  # instrument line: "C5:1 r:2 C4+E4+G4:.5" (note or chord, beats); r = rest
    lead_program: int = 0
    melody: str = ""  # sung: "syllable NOTE beats, ..." from voice_at; "- - beats" rest; "~ NOTE beats" slur
    voice_at: float = 0.0  # sung: the beat the melody starts on; spoken: seconds
    lines: tuple[tuple[str, float], ...] = ()  # spoken: (text for espeak-ng, pause after in seconds)
    speed: int = 160  # spoken: espeak-ng words per minute
    transpose: int = 0  # semitones, for the voice and the band alike: a key that suits the voice


# General MIDI programs
PIANO, EPIANO, GLOCKENSPIEL, MARIMBA, NYLON, ACOUSTIC_BASS, CELLO = 0, 4, 9, 12, 24, 32, 42
PIZZICATO, STRINGS, SLOW_STRINGS, BRASS, FLUTE, WARM_PAD, KOTO = 45, 48, 49, 61, 73, 89, 107

PRESETS = (
    Preset(
        id="twinkle-twinkle", title="Twinkle Twinkle", language="en", kind="sung",
        lyrics="Twinkle, twinkle, little star, how I wonder what you are.",
        source="Traditional melody (18th-century French) and Jane Taylor's 1806 words, both public domain",
        voice="en-us+f2", bpm=108, voice_at=4,
        melody="twin C4 1, kul C4 1, twin G4 1, kul G4 1, lit A4 1, tul A4 1, star G4 2, "
               "how F4 1, eye F4 1, wun E4 1, durr E4 1, what D4 1, you D4 1, are C4 2",
        chords="F:1 C:1 G:1 C:1 C:4 F:2 C:2 F:2 C:2 G:2 C:2 C:4",
        layers=(Layer(PIANO, "arp", 60), Layer(ACOUSTIC_BASS, "bass", 70)),
        lead="F5:.5 F5:.5 E5:.5 E5:.5 D5:.5 D5:.5 C5:1 r:16 E5:1 G5:1 C6:2", lead_program=GLOCKENSPIEL,
    ),
    Preset(
        id="happy-birthday", title="Happy Birthday", language="en", kind="sung",
        lyrics="Happy birthday to you, happy birthday to you, happy birthday dear friend, happy birthday to you.",
        source="Melody of 'Good Morning to All' (Mildred and Patty Hill, 1893) with the traditional birthday words, "
               "public domain (in the US since 2016, in the EU since 2017)",
        voice="en-us", bpm=132, voice_at=1, transpose=-5,
        melody="hap G3 .75, pee G3 .25, birth A3 1, day G3 1, too C4 1, you B3 1.25, - - .75, "
               "hap G3 .75, pee G3 .25, birth A3 1, day G3 1, too D4 1, you C4 1.25, - - .75, "
               "hap G3 .75, pee G3 .25, birth G4 1, day E4 1, dear C4 1, frend B3 1, ~ A3 .25, - - .75, "
               "hap F4 .75, pee F4 .25, birth E4 1, day C4 1, too D4 1, you C4 3",
        chords="N:2 C:3 G:3 G:3 C:3 C:3 F:3 C:2 G:1 C:4",
        layers=(Layer(PIANO, "waltz", 62), Layer(ACOUSTIC_BASS, "bass", 72)),
    ),
    Preset(
        id="jingle-bells", title="Jingle Bells", language="en", kind="sung",
        lyrics="Jingle bells, jingle bells, jingle all the way, oh what fun it is to ride in a one-horse open sleigh.",
        source="James Lord Pierpont's 1857 melody and words, public domain",
        voice="en-us", bpm=152, voice_at=1, transpose=-5,
        melody="jin E4 1, gul E4 1, bells E4 1.5, - - .5, jin E4 1, gul E4 1, bells E4 1.5, - - .5, "
               "jin E4 1, gul G4 1, all C4 1.5, the D4 .5, way E4 3, - - 1, "
               "oh F4 1, what F4 1, fun F4 1.5, it F4 .5, is F4 1, to E4 1, ride E4 .5, - - .5, in E4 .5, uh E4 .5, "
               "wun G4 1, horse G4 1, oh F4 1, pen D4 1, sleigh C4 3",
        chords="N:1 C:4 C:4 C:4 C:4 F:4 C:4 G7:4 C:4",
        layers=(Layer(PIANO, "block", 62), Layer(ACOUSTIC_BASS, "bass", 72)), drums="tambourine",
    ),
    Preset(
        id="are-you-sleeping", title="Are You Sleeping", language="en", kind="sung",
        lyrics="Are you sleeping, are you sleeping, Brother John, Brother John? Morning bells are ringing, "
               "morning bells are ringing, ding, dang, dong, ding, dang, dong.",
        source="The traditional round 'Frère Jacques' with its traditional English words, both public domain",
        voice="en-us+f4", bpm=152, voice_at=1,
        melody="are C4 1, you D4 1, slee E4 1, ping C4 .5, - - .5, "
               "are C4 1, you D4 1, slee E4 1, ping C4 .5, - - .5, "
               "bruh E4 1, ther F4 1, john G4 1.5, - - .5, bruh E4 1, ther F4 1, john G4 1.5, - - .5, "
               "morn G4 .5, ning A4 .5, bells G4 .5, are F4 .5, ring E4 1, ing C4 .5, - - .5, "
               "morn G4 .5, ning A4 .5, bells G4 .5, are F4 .5, ring E4 1, ing C4 .5, - - .5, "
               "ding C4 1, dang G3 1, dong C4 1.5, - - .5, ding C4 1, dang G3 1, dong C4 2",
        chords="N:1 C:4 C:4 C:4 C:4 C:4 C:4 C:1 G:1 C:2 C:1 G:1 C:2",
        layers=(Layer(NYLON, "arp", 64), Layer(STRINGS, "pad", 45), Layer(ACOUSTIC_BASS, "bass", 64)),
    ),
    Preset(
        id="mo-li-hua", title="Mo Li Hua 茉莉花", language="zh", kind="sung",
        lyrics="好一朵茉莉花，好一朵茉莉花。",
        # The old words ("Xian Hua Diao"), not "好一朵美丽的茉莉花", which is from a 1957 arrangement.
        source="The traditional Jiangsu folk tune 'Mo Li Hua' with its traditional Qing-dynasty words, public domain",
        voice="cmn-latn-pinyin+f2", bpm=112, voice_at=4,
        melody="hao3 E4 1, yi4 E4 .5, ~ G4 .5, duo3 A4 .5, ~ C5 .5, mo4 C5 .5, ~ A4 .5, "
               "li4 G4 1.5, ~ A4 .5, hua1 G4 2, - - 4, "
               "hao3 E4 1, yi4 E4 .5, ~ G4 .5, duo3 A4 .5, ~ C5 .5, mo4 C5 .5, ~ A4 .5, "
               "li4 G4 1.5, ~ A4 .5, hua1 G4 2",
        chords="C:2 G:2 C:2 Am:2 C:4 F:2 G:2 C:2 Am:2 C:4",
        layers=(Layer(KOTO, "arp", 66), Layer(SLOW_STRINGS, "pad", 50), Layer(CELLO, "bass", 50)),
        lead="E5:.5 D5:.5 E5:.5 G5:.5 E5:.5 D5:.5 C5:1 r:8 G5:.5 A5:.5 C6:1 A5:.5 G5:.5 E5:1", lead_program=FLUTE,
    ),
    Preset(
        id="zao-shang-hao", title="Good Morning 早上好", language="zh", kind="sung",
        lyrics="早上好呀，早上好呀，太阳红，太阳红。小鸟唱歌跳舞，小鸟唱歌跳舞，起床啦，起床啦！",
        source="The traditional round 'Frère Jacques' (public domain) with our own Mandarin words",
        voice="cmn-latn-pinyin+f4", bpm=152, voice_at=1, transpose=2,
        melody="zao3 C4 1, shang4 D4 1, hao3 E4 1, ya C4 .5, - - .5, "
               "zao3 C4 1, shang4 D4 1, hao3 E4 1, ya C4 .5, - - .5, "
               "tai4 E4 1, yang2 F4 1, hong2 G4 1.5, - - .5, "
               "tai4 E4 1, yang2 F4 1, hong2 G4 1.5, - - .5, "
               "xiao3 G4 .5, niao3 A4 .5, chang4 G4 .5, ge1 F4 .5, tiao4 E4 1, wu3 C4 .5, - - .5, "
               "xiao3 G4 .5, niao3 A4 .5, chang4 G4 .5, ge1 F4 .5, tiao4 E4 1, wu3 C4 .5, - - .5, "
               "qi3 C4 1, chuang2 G3 1, la C4 1.5, - - .5, qi3 C4 1, chuang2 G3 1, la C4 2",
        chords="N:1 C:4 C:4 C:4 C:4 C:4 C:4 C:1 G:1 C:2 C:1 G:1 C:2",
        layers=(Layer(MARIMBA, "block", 66), Layer(ACOUSTIC_BASS, "bass", 66)), drums="soft",
    ),
    Preset(
        id="breaking-news-cat", title="Breaking News: The Cat", language="en", kind="spoken",
        lyrics="Breaking news. The cat has pushed the cup off the table again. "
               "Witnesses say he looked right at us while doing it. More at eleven.",
        source="Our own words", voice="en-us", bpm=120, voice_at=2.2, speed=155,
        lines=(("Breaking news.", 0.45), ("The cat has pushed the cup off the table again.", 0.4),
               ("Witnesses say he looked right at us while doing it.", 0.5), ("More at eleven.", 0.0)),
        chords="N:4 C:4 Am:4 F:4 G:4 C:4 Am:4 F:4 G:4",
        layers=(Layer(WARM_PAD, "pad", 60),),
        lead="C4+G4+C5:.5 C4+G4+C5:.5 r:.5 G3+D4+G4:.5 C4+G4+C5:2", lead_program=BRASS,
    ),
    Preset(
        id="still-loading", title="Still Loading", language="en", kind="spoken",
        lyrics="Good morning. I have had three coffees and I am still loading. Please hold. "
               "Your call is important to me.",
        source="Our own words", voice="en-us+f3", bpm=100, voice_at=0.8, speed=150,
        lines=(("Good morning.", 0.5), ("I have had three coffees, and I am still loading.", 0.6),
               ("Please hold.", 0.7), ("Your call is important to me.", 0.0)),
        chords="Dm:4 G7:4 C:4 A:4 Dm:4 G7:4 C:4 C:4",
        layers=(Layer(EPIANO, "block", 55), Layer(ACOUSTIC_BASS, "bass", 60)),
    ),
    Preset(
        id="mood-forecast", title="Mood Forecast 心情预报", language="zh", kind="spoken",
        lyrics="各位观众，现在播报心情天气预报。今天上午晴，午饭以后有点困，傍晚转为想吃火锅。",
        source="Our own words", voice="cmn-latn-pinyin", bpm=96, voice_at=0.7, speed=165,
        lines=(("ge4 wei4 guan1 zhong4,", 0.35), ("xian4 zai4 bo1 bao4 xin1 qing2 tian1 qi4 yu4 bao4.", 0.6),
               ("jin1 tian1 shang4 wu3 qing2,", 0.35), ("wu3 fan4 yi3 hou4 you3 dian3 kun4,", 0.45),
               ("bang4 wan3 zhuan3 wei2 xiang3 chi1 huo3 guo1.", 0.0)),
        chords="C:4 Am:4 F:4 G:4",
        layers=(Layer(WARM_PAD, "pad", 55), Layer(GLOCKENSPIEL, "hits", 40)),
    ),
    Preset(
        id="starting-tomorrow", title="Starting Tomorrow 从明天开始", language="zh", kind="spoken",
        lyrics="我宣布：从今天开始，我要早睡早起，好好运动，少吃零食。……从明天开始！",
        source="Our own words", voice="cmn-latn-pinyin+f2", bpm=104, voice_at=0.6, speed=150,
        lines=(("wo3 xuan1 bu4:", 0.35), ("cong2 jin1 tian1 kai1 shi3,", 0.3),
               ("wo3 yao4 zao3 shui4 zao3 qi3, hao3 hao3 yun4 dong4, shao3 chi1 ling2 shi2.", 1.0),
               ("cong2 ming2 tian1 kai1 shi3!", 0.0)),
        chords="C:4 G:4 Am:4 F:4",
        layers=(Layer(PIZZICATO, "block", 60), Layer(ACOUSTIC_BASS, "bass", 55)),
    ),
)


# ---------------------------------------------------------------------------------------------------------------------
# Reading the data

@dataclass(frozen=True)
class Note:
    start: float  # seconds
    end: float
    pitch: int  # MIDI


@dataclass(frozen=True)
class Syllable:
    text: str
    notes: tuple[Note, ...]  # more than one when slurred


def seconds_per_beat(preset: Preset) -> float:
    return 60.0 / preset.bpm


def parse_melody(preset: Preset) -> list[list[Syllable]]:
    """The sung melody as phrases (split at rests) of syllables with absolute note times."""
    spb = seconds_per_beat(preset)
    phrases: list[list[Syllable]] = [[]]
    beat = preset.voice_at
    for item in preset.melody.split(","):
        text, name, beats = item.split()
        start, beat = beat * spb, beat + float(beats)
        if text == "-":
            phrases.append([])
            continue
        note = Note(start, beat * spb, pretty_midi.note_name_to_number(name) + preset.transpose)
        if text == "~":
            last = phrases[-1].pop()
            phrases[-1].append(Syllable(last.text, last.notes + (note,)))
        else:
            phrases[-1].append(Syllable(text, (note,)))
    return [phrase for phrase in phrases if phrase]


def parse_timed(spec: str) -> list[tuple[str, float]]:
    """"A:2 B:1.5" -> [("A", 2.0), ("B", 1.5)]."""
    return [(name, float(beats)) for name, beats in (token.split(":") for token in spec.split())]


CHORD_SHAPES = {"": (0, 4, 7), "m": (0, 3, 7), "7": (0, 4, 7, 10)}


def chord_pitches(name: str, transpose: int) -> tuple[int, ...]:
    """Chord tones in close position from G3 up, e.g. ("G7", 0) -> (59, 62, 65, 67)."""
    root = name[:2] if name[1:2] in ("#", "b") else name[:1]
    pitch_class = (pretty_midi.note_name_to_number(root + "0") + transpose) % 12
    return tuple(sorted(55 + (pitch_class + step - 55) % 12 for step in CHORD_SHAPES[name[len(root):]]))


# ---------------------------------------------------------------------------------------------------------------------
# Voice: espeak-ng, and WORLD singing

def espeak(text: str, voice: str, speed: int) -> np.ndarray:
    """espeak-ng's reading of `text` at SR, with the silence around it trimmed."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "say.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
        audio, rate = soundfile.read(wav, dtype="float64")
    audio = resample_poly(audio, SR, rate)
    loud = np.flatnonzero(np.abs(audio) > 0.01 * np.abs(audio).max())
    return audio[max(loud[0] - HOP, 0): loud[-1] + HOP]


@dataclass(frozen=True)
class Analysis:
    voiced: np.ndarray  # per frame
    sp: np.ndarray  # spectral envelope per frame
    ap: np.ndarray  # aperiodicity per frame
    v0: int  # first voiced frame
    v1: int  # one past the last voiced frame


@functools.cache
def analyse_syllable(text: str, voice: str) -> Analysis:
    if voice.startswith("cmn"):  # the melody replaces the tone; the level first tone keeps the vowel steady
        text = text.rstrip("012345") + "1"
    audio = espeak(text, voice, speed=120)
    f0, times = pyworld.dio(audio, SR, f0_floor=60.0, f0_ceil=600.0, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(audio, f0, times, SR)
    sp = pyworld.cheaptrick(audio, f0, times, SR)
    ap = pyworld.d4c(audio, f0, times, SR)
    # A frame is voiced when it is periodic below 2 kHz too: f0 trackers alone call the hiss of "h" or "x" voiced,
    # and that hiss would then be stretched over the note instead of the vowel.
    voiced = (f0 > 0) & (ap[:, 1:ap.shape[1] // 8].mean(axis=1) < 0.5)
    frames = np.flatnonzero(voiced)
    return Analysis(voiced, sp, ap, int(frames[0]), int(frames[-1]) + 1)


def frame_of(seconds: float) -> int:
    return round(seconds * 1000 / FRAME_MS)


def source_positions(syl: Analysis, n_out: int, lead: int) -> np.ndarray:
    """For each of `n_out` output frames, the (fractional) source frame to read.

    The sound before voicing (the consonant) ends `lead` frames in, i.e. on the beat; the middle of the voiced part
    (the vowel) stretches to fill the note; the onset glide and the coda keep their natural speed when there is room.
    """
    v0, v1, n = syl.v0, syl.v1, len(syl.voiced)
    a, b = v0 + 0.3 * (v1 - v0), v0 + 0.7 * (v1 - v0)
    head, tail = a - v0, n - b
    squeeze = min(1.0, 0.6 * (n_out - lead) / (head + tail))
    src = np.array([0, v0, a, b, n - 1], float)
    out = np.array([0, lead, lead + head * squeeze, n_out - 1 - tail * squeeze, n_out - 1], float)
    out = np.maximum.accumulate(out + 1e-6 * np.arange(5))  # strictly increasing for np.interp
    return np.interp(np.arange(n_out), out, src)


def pitch_curve(notes: list[Note], first_frame: int, n_frames: int) -> np.ndarray:
    """MIDI pitch per frame: the notes, joined by ~60 ms glides, with vibrato on notes long enough to carry it."""
    times = (first_frame + np.arange(n_frames)) * FRAME_MS / 1000
    starts = np.array([note.start for note in notes])
    index = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(notes) - 1)
    steps = np.array([note.pitch for note in notes], float)[index]
    window = np.hanning(13) / np.hanning(13).sum()
    curve = np.convolve(np.pad(steps, 6, mode="edge"), window, mode="valid")
    for note in notes:
        if note.end - note.start > 0.45:
            age = times - note.start - 0.25  # vibrato sets in after a quarter second, over 0.2 s
            depth = 0.15 * np.clip(age / 0.2, 0, 1) * (times < note.end)  # +-15 cents
            curve += depth * np.sin(2 * np.pi * 5.5 * np.maximum(age, 0))
    return curve


def sing_phrase(phrase: list[Syllable], voice: str) -> tuple[int, np.ndarray]:
    """One phrase sung: (first sample, audio). Syllables are joined frame by frame and resynthesised in one go."""
    analyses = [analyse_syllable(s.text, voice) for s in phrase]
    beats = [frame_of(s.notes[0].start) for s in phrase]
    leads = [min(a.v0, frame_of(LEAD_MAX_S)) for a in analyses]
    for i in range(1, len(phrase)):  # a consonant may not eat more than 40% of the note before it
        leads[i] = min(leads[i], int(0.4 * (beats[i] - beats[i - 1])))
    bounds = [beat - lead for beat, lead in zip(beats, leads)] + [frame_of(phrase[-1].notes[-1].end - 0.03)]
    voiced, sp, ap = [], [], []
    for i, syl in enumerate(analyses):
        pos = source_positions(syl, bounds[i + 1] - bounds[i], leads[i])
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, len(syl.voiced) - 1)
        w = (pos - lo)[:, None]
        sp.append(np.exp((1 - w) * np.log(syl.sp[lo]) + w * np.log(syl.sp[hi])))
        ap.append((1 - w) * syl.ap[lo] + w * syl.ap[hi])
        voiced.append(syl.voiced[np.round(pos).astype(int)])
    voiced = np.concatenate(voiced)
    notes = [note for s in phrase for note in s.notes]
    hz = 440.0 * 2 ** ((pitch_curve(notes, bounds[0], len(voiced)) - 69) / 12) * voiced
    audio = pyworld.synthesize(hz, np.concatenate(sp), np.concatenate(ap), SR, FRAME_MS)
    fade = np.minimum(1, np.minimum(np.arange(len(audio)), np.arange(len(audio))[::-1]) / (0.01 * SR))
    return bounds[0] * HOP, audio * fade


def smooth_gain(need: np.ndarray, radius: int) -> np.ndarray:
    """A smooth gain that never exceeds `need`: a minimum over +-radius, then an average over +-radius."""
    floor = minimum_filter1d(need, 2 * radius + 1, mode="nearest")
    return np.convolve(np.pad(floor, radius, mode="edge"), np.ones(2 * radius + 1) / (2 * radius + 1), mode="valid")


def limit(audio: np.ndarray, ceiling: float) -> np.ndarray:
    """The gain (per sample) of a peak limiter that keeps |audio| <= ceiling, ramping over 4 ms each way."""
    return smooth_gain(np.minimum(1.0, ceiling / np.maximum(np.abs(audio), 1e-9)), SR // 500)


def even_out(vocal: np.ndarray) -> np.ndarray:
    """A vocal compressor: no stretch of the voice ends up more than 3 dB above its median level.

    Needed because espeak-ng's formants are sharp: a note whose harmonic lands on one comes out up to 8 dB louder.
    """
    win = SR // 100
    frames = np.pad(vocal, (0, -len(vocal) % win)).reshape(-1, win)
    rms = np.sqrt(np.convolve((frames ** 2).mean(axis=1), np.ones(5) / 5, mode="same"))
    ceiling = db_to_gain(3) * np.median(rms[rms > 1e-3 * rms.max()])
    gain = smooth_gain(np.minimum(1.0, ceiling / np.maximum(rms, 1e-12)), 3)
    return vocal * np.interp(np.arange(len(vocal)), np.arange(len(gain)) * win + win / 2, gain)


def place(track: np.ndarray, start: int, audio: np.ndarray) -> None:
    track[start:start + len(audio)] += audio[:len(track) - start]


def sung_vocal(preset: Preset, n_samples: int) -> np.ndarray:
    track = np.zeros(n_samples)
    for phrase in parse_melody(preset):
        place(track, *sing_phrase(phrase, preset.voice))
    return even_out(track)


def spoken_vocal(preset: Preset) -> np.ndarray:
    """The lines read one after another from voice_at, with their pauses; the track ends where the speech does."""
    pieces = [np.zeros(round(preset.voice_at * SR))]
    for text, pause in preset.lines:
        pieces += [espeak(text, preset.voice, preset.speed), np.zeros(round(pause * SR))]
    return even_out(np.concatenate(pieces))


# ---------------------------------------------------------------------------------------------------------------------
# Backing: MIDI built here, rendered by fluidsynth

def chord_spans(preset: Preset, seconds: float) -> list[tuple[str, float, float]]:
    """(chord, start, end) in seconds; the chord list repeats until it lasts `seconds`."""
    spb, spans, beat = seconds_per_beat(preset), [], 0.0
    while beat * spb < seconds:
        for name, beats in parse_timed(preset.chords):
            spans.append((name, beat * spb, (beat + beats) * spb))
            beat += beats
    return spans


def pattern_notes(layer: Layer, tones: tuple[int, ...], start: float, end: float, spb: float) -> list[tuple]:
    """(pitch, start, end) for one layer over one chord of `tones`."""
    beats = np.arange(start, end - 1e-6, spb)
    if layer.pattern == "pad":
        return [(p, start, end) for p in tones]
    if layer.pattern == "block":
        return [(p, t, t + 0.9 * spb) for t in beats for p in tones]
    if layer.pattern == "hits":
        return [(p + 12, start, start + spb) for p in tones]
    if layer.pattern == "waltz":  # oom-pah-pah: the bass takes the first beat of the bar
        return [(p, t, t + 0.8 * spb) for t in beats[1:] for p in tones]
    if layer.pattern == "bass":  # the root on beats 1 and 3 of a 4-beat chord, else once
        root = 36 + (tones[0] - 36) % 12
        if len(beats) >= 4:
            return [(root, t, t + 1.8 * spb) for t in beats[::2]]
        return [(root, start, start + 0.9 * (end - start))]
    if layer.pattern == "arp":
        cycle = tones[:3] + (tones[0] + 12,)
        halves = np.arange(start, end - 1e-6, spb / 2)
        return [(cycle[i % 4], t, t + spb / 2) for i, t in enumerate(halves)]
    raise ValueError(f"unknown pattern {layer.pattern!r}")


KICK, SNARE, HAT, TAMBOURINE = 36, 38, 42, 54


def drum_notes(style: str, start: float, end: float, spb: float) -> list[tuple[int, float, int]]:
    """(drum, time, velocity) over one chord."""
    beats = np.arange(start, end - 1e-6, spb)
    if style == "soft":
        return ([(KICK, t, 60) for t in beats[::2]] + [(SNARE, t, 35) for t in beats[1::2]]
                + [(HAT, t, 35) for t in beats])
    if style == "tambourine":
        halves = np.arange(start, end - 1e-6, spb / 2)
        return [(KICK, t, 55) for t in beats[::2]] + [(TAMBOURINE, t, 50) for t in halves]
    return []


def backing_midi(preset: Preset, seconds: float) -> pretty_midi.PrettyMIDI:
    """The backing band playing the chords for `seconds`, and the lead line."""
    spb = seconds_per_beat(preset)
    midi = pretty_midi.PrettyMIDI(initial_tempo=preset.bpm)
    spans = [span for span in chord_spans(preset, seconds) if span[0] != "N"]
    for layer in preset.layers:
        instrument = pretty_midi.Instrument(layer.program)
        for chord, start, end in spans:
            for pitch, t0, t1 in pattern_notes(layer, chord_pitches(chord, preset.transpose), start, end, spb):
                instrument.notes.append(pretty_midi.Note(layer.velocity, pitch, t0, t1))
        midi.instruments.append(instrument)
    drums = pretty_midi.Instrument(0, is_drum=True)
    for chord, start, end in spans:
        for pitch, t, velocity in drum_notes(preset.drums, start, end, spb):
            drums.notes.append(pretty_midi.Note(velocity, pitch, t, t + 0.1))
    lead, beat = pretty_midi.Instrument(preset.lead_program), 0.0
    for name, beats in parse_timed(preset.lead):
        if name != "r":
            for note in name.split("+"):
                pitch = pretty_midi.note_name_to_number(note) + preset.transpose
                lead.notes.append(pretty_midi.Note(85, pitch, beat * spb, (beat + beats) * spb))
        beat += beats
    midi.instruments += [i for i in (drums, lead) if i.notes]
    return midi


def render(midi: pretty_midi.PrettyMIDI, n_samples: int) -> np.ndarray:
    """The MIDI as mono audio, exactly `n_samples` long, faded out over its last TAIL_S."""
    if shutil.which("fluidsynth") and SOUNDFONT.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            mid, wav = Path(tmp) / "backing.mid", Path(tmp) / "backing.wav"
            midi.write(str(mid))
            # Float output: fluidsynth dithers when it writes 16-bit, and dither would break reproducibility.
            subprocess.run(["fluidsynth", "-ni", "-q", "-r", str(SR), "-O", "float", "-T", "wav", "-F", str(wav),
                            str(SOUNDFONT), str(mid)], check=True, capture_output=True)
            audio = soundfile.read(wav, dtype="float64")[0].mean(axis=1)
    else:
        print("warning: no fluidsynth or soundfont: a sine synth stands in; the files will differ from the committed")
        audio = midi.synthesize(fs=SR)
    audio = np.pad(audio, (0, max(0, n_samples - len(audio))))[:n_samples]
    fade = int(TAIL_S * SR)
    audio[-fade:] *= np.linspace(1, 0, fade) ** 2
    return audio


# ---------------------------------------------------------------------------------------------------------------------
# Mixing and writing

LICENCE = "CC0-1.0 (audio generated by this project from public-domain melodies and public-domain or our own words)"


def loudness(audio: np.ndarray) -> float:
    with np.errstate(divide="ignore"):  # silent blocks are gated out; log10(0) on the way is expected
        return pyloudnorm.Meter(SR).integrated_loudness(audio)


def mix_down(vocal: np.ndarray, backing: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(mix, vocal stem) at the target loudness; the stem is exactly the voice inside the mix."""
    backing = backing * db_to_gain(loudness(vocal) - VOICE_OVER_BACKING_DB[kind] - loudness(backing))
    mix, stem = vocal + backing, vocal
    for _ in range(3):  # limiting lowers the loudness a little: normalise again
        gain = db_to_gain(TARGET_LUFS - loudness(mix))
        safe = gain * limit(gain * mix, db_to_gain(PEAK_DBFS - 0.3))  # 0.3 dB to spare for rounding to 16 bits
        mix, stem = mix * safe, stem * safe
    return mix, stem


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    return np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16)


def voice_start(stem: np.ndarray) -> float:
    """Start of the first 10 ms window of the stem louder than VOICE_DBFS."""
    win = SR // 100
    frames = stem[:len(stem) // win * win].reshape(-1, win)
    loud = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-20) > VOICE_DBFS
    return float(np.argmax(loud) * win / SR)


def build(preset: Preset) -> list[Note]:
    """Synthesise one preset into OUT_DIR/<id>/; returns the sung notes (none for a spoken line)."""
    # Lengths are whole milliseconds, so that the duration in song.json is exact.
    if preset.kind == "sung":  # the chords play once, then ring out
        music = sum(beats for _, beats in parse_timed(preset.chords)) * seconds_per_beat(preset)
        n_samples = round((music + TAIL_S) * 1000) * SR // 1000
        vocal = sung_vocal(preset, n_samples)
        notes = [note for phrase in parse_melody(preset) for syl in phrase for note in syl.notes]
    else:  # the bed loops under the speech and plays on for 1.2 s
        speech = spoken_vocal(preset)
        n_samples = round(len(speech) / SR * 1000 + 1200) * SR // 1000
        music = n_samples / SR
        vocal = np.pad(speech, (0, n_samples - len(speech)))
        notes = []
    backing = render(backing_midi(preset, music), n_samples)
    mix, stem = mix_down(vocal, backing, preset.kind)
    folder = OUT_DIR / preset.id
    folder.mkdir(parents=True, exist_ok=True)
    stem16 = to_pcm16(stem)
    for name, audio in (("mix", to_pcm16(mix)), ("vocals", stem16)):
        soundfile.write(folder / f"{name}.flac", audio, SR, subtype="PCM_16", format="FLAC")
    meta = {"id": preset.id, "title": preset.title, "language": preset.language, "kind": preset.kind,
            "lyrics": preset.lyrics, "duration": round(n_samples / SR, 3),
            "voice_start": round(voice_start(stem16 / 32768), 3), "licence": LICENCE,
            "provenance": f"{preset.source}; {SUNG_METHOD if preset.kind == 'sung' else SPOKEN_METHOD}."}
    (folder / "song.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return notes


def write_readme() -> None:
    rows = "\n".join(f"| `{p.id}` | {p.title} | {p.language} | {p.kind} | {p.source} |" for p in PRESETS)
    (OUT_DIR / "README.md").write_text(f"""# Preset songs

Generated by `scripts/make_songs.py` (see its docstring to regenerate); do not edit these files by hand.
Each folder holds `mix.flac` (voice and instruments), `vocals.flac` (the voice alone, sample-aligned with the mix;
the mouth is driven by it) and `song.json` (title, language, kind, lyrics, duration, voice_start, licence, provenance).
Audio: mono, 32 kHz, 16-bit FLAC, about {TARGET_LUFS:g} LUFS, peaks at most {PEAK_DBFS:g} dBFS.

Licence of every file here: {LICENCE}.

No recording, score file or lyric text was copied from anywhere: sung melodies are public domain and written out note
by note in the script; words are public domain or our own. Tools used (their
licences do not extend to their output): espeak-ng (GPL-3.0) for the voice, the WORLD vocoder (BSD) through pyworld
(MIT) for singing, pretty_midi (MIT) and fluidsynth (LGPL-2.1) with the FluidR3 GM soundfont (MIT) for the instruments.
`voice_start` is when the voice first sounds: before it only instruments play (an intro, for the songs with one).

| id | title | language | kind | melody and words |
|---|---|---|---|---|
{rows}
""", encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------------
# Checking what was written

def read_pcm(path: Path) -> np.ndarray:
    return soundfile.read(path, dtype="int16")[0] / 32768


def pitch_errors(f0: np.ndarray, times: np.ndarray, notes: list[Note]) -> tuple[float, int, list[int]]:
    """(median absolute error in cents, notes measured, indices of notes off by 50 cents or more).

    Measured over the held part of each note: after the glide into it, before the next syllable's consonant.
    Notes too short to have one are not measured.
    """
    errors, off = [], []
    for i, note in enumerate(notes):
        held = (times >= note.start + 0.07) & (times <= note.end - LEAD_MAX_S) & (f0 > 0)
        if held.any():
            cents = np.abs(1200 * np.log2(f0[held] / (440.0 * 2 ** ((note.pitch - 69) / 12))))
            errors.append(cents)
            if np.median(cents) >= 50:
                off.append(i)
    return float(np.median(np.concatenate(errors))), len(errors), off


def check(preset: Preset, notes: list[Note]) -> list[str]:
    """Print the figures of one written preset; return what is wrong with it."""
    folder = OUT_DIR / preset.id
    mix, stem = read_pcm(folder / "mix.flac"), read_pcm(folder / "vocals.flac")
    meta = json.loads((folder / "song.json").read_text(encoding="utf-8"))
    lufs, peak = loudness(mix), 20 * np.log10(np.abs(mix).max())
    f0, times = pyworld.harvest(stem, SR, f0_floor=60.0, f0_ceil=900.0, frame_period=FRAME_MS)
    first_voiced = float(times[np.argmax(f0 > 0)])
    problems = []
    figures = f"{preset.id:20} {lufs:6.2f} LUFS  peak {peak:6.2f} dBFS  {meta['duration']:6.3f} s  " \
              f"voice at {meta['voice_start']:.3f} s (voiced {first_voiced:.3f})"
    if notes:
        cents, measured, off = pitch_errors(f0, times, notes)
        figures += f"  pitch error {cents:4.1f} cents, {measured - len(off)}/{measured} notes within 50"
        if cents >= 25 or off:
            problems.append(f"pitch: median error {cents:.1f} cents; notes off: {off}")
    print(figures)
    if len(mix) != len(stem) or abs(len(mix) / SR - meta["duration"]) > 5e-4:
        problems.append("mix, stem and duration disagree")
    if not 5 <= meta["duration"] <= 15:
        problems.append(f"duration {meta['duration']} s")
    if abs(lufs - TARGET_LUFS) > 1:
        problems.append(f"loudness {lufs:.2f} LUFS")
    if peak > PEAK_DBFS:
        problems.append(f"peak {peak:.2f} dBFS")
    if abs(meta["voice_start"] - first_voiced) > 0.1:
        problems.append(f"voice_start {meta['voice_start']} s but voicing starts at {first_voiced:.3f} s")
    return [f"{preset.id}: {problem}" for problem in problems]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", metavar="ID", help="presets to make (default: all)")
    ids = parser.parse_args(argv).ids
    unknown = set(ids) - {preset.id for preset in PRESETS}
    if unknown:
        parser.error(f"unknown preset(s): {', '.join(sorted(unknown))}")
    problems = []
    for preset in PRESETS:
        if not ids or preset.id in ids:
            problems += check(preset, build(preset))
    write_readme()
    size = sum(f.stat().st_size for f in OUT_DIR.rglob("*") if f.is_file())
    print(f"assets/songs: {size / 1e6:.2f} MB")
    if size > 12e6:
        problems.append(f"assets/songs is {size / 1e6:.1f} MB, over 12 MB")
    print("\n".join(["FAILED:"] + problems) if problems else "all checks passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
