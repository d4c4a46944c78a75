"""Voice separation on real recordings: does the mouth follow the singer, and never the band?

    .venv/bin/python benchmarks/separation.py [--only NAME ...] [--json benchmarks/separation.json]

The mouth an upload gets (`emo.motion.plan(emo.audio.analyse(voice, mix)).mouth_open`, 25 fps, in inter-ocular
distances over the photo's own gap) is measured with the voice taken as the pipeline takes it from an upload with
no stem (`emo.separate.separate_voice(mix)`), and, for comparison, the raw mix. Three sets:

  real      ../shared/data/audio-dev as it is (read from there, never copied): a singer with an orchestra, a cappella
            solo and choir, read speech, a telephone prompt, and a jazz instrumental (no voice at all). Where the
            recording is the voice alone, the recording is its own true stem; elsewhere voiced stretches are the
            ones the data set's PROVENANCE.md gives.
  mixes     each a cappella or speech recording over the jazz instrumental (drums from 14 s) after a 5 s
            instrumental intro, and (short ones) again after a 5 s break, at the voice 6, 0, -3 and -6 dB against the
            accompaniment (RMS while it sings): the a cappella is then the true stem.
  extra     any *.wav/*.ogg/*.mp3/*.flac in --extra DIR (real material found elsewhere), listed with a kind in
            DIR/kinds.json: {"file": "instrumental" | "voice" | "song"}; voice = its own true stem.

Reported per recording: `voiced` and `instr`, the mean extra opening over the frames where the true voice is
present / absent (targets: >= 0.06 and <= 0.03); `r`, the correlation with the mouth the true stem gives, best of
lag -1..1 frames, and the lag (target r >= 0.8 at lag 0 +-1); for a clip with no voice, its mean opening.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emo.audio import SAMPLE_RATE, analyse, load_audio
from emo.motion import plan
from emo.separate import separate_voice

ROOT = Path(__file__).resolve().parent.parent

FPS = 25
DEV = ROOT.parent / "shared" / "data" / "audio-dev"
VOICED_DB, SILENT_DB = -20.0, -30.0  # true stem's frame level against its own loud level: voiced above, absent below
INTRO_S = 5.0  # instrumental intro (and break) before each voice in the mixes
TARGETS = {"voiced": 0.06, "instr": 0.03, "r": 0.8}


@dataclass
class Recording:
    name: str
    kind: str  # "song" (voice + instruments), "voice" (a cappella or speech alone), "instrumental"
    mix: np.ndarray
    stem: np.ndarray | None = None  # the true voice, where known
    voiced: list[tuple[float, float]] | None = None  # voiced stretches in seconds, where no stem is known


def _dev(name: str) -> np.ndarray:
    return load_audio(next(p for p in DEV.glob(f"{name}*") if p.suffix in (".wav", ".ogg", ".mp3")), max_seconds=120)


def real_recordings() -> list[Recording]:
    caruso_breaths = [(27.4, 28.0), (30.1, 31.4), (44.6, 45.1), (56.0, 56.6)]
    caruso = _dev("r02_")
    voiced, start = [], 0.6
    for b0, b1 in caruso_breaths:
        voiced.append((start, b0))
        start = b1
    voiced.append((start, len(caruso) / SAMPLE_RATE))
    out = [Recording("r02 Caruso + orchestra", "song", caruso, voiced=voiced)]
    for prefix, name in (("r06_", "r06 choir a cappella"), ("r07_", "r07 solo a cappella"),
                         ("r11_", "r11 read speech"), ("r12_", "r12 phone prompt 8 kHz")):
        voice = _dev(prefix)
        out.append(Recording(name, "voice", voice, stem=voice))
    out.append(Recording("r14 jazz, no voice", "instrumental", _dev("r14_")))
    return out


def mixes() -> list[Recording]:
    """Each voice over the band: an instrumental intro, the voice, an instrumental break, the voice again (the choir,
    30 s with its own gaps, once), at several levels."""
    band = _dev("r14_")
    out = []
    for prefix, name in (("r06_", "choir"), ("r07_", "solo"), ("r11_", "speech")):
        voice = _dev(prefix)
        rest = np.zeros(int(INTRO_S * SAMPLE_RATE), np.float32)
        track = np.concatenate([rest, voice] if len(voice) > 20 * SAMPLE_RATE else [rest, voice, rest, voice])
        for offset_s in (0.0, 14.0):  # over vibraphone and bass alone; over the drums too
            accomp = band[int(offset_s * SAMPLE_RATE):][: len(track)]
            if len(accomp) < len(track):
                continue
            for db in (6, 0, -3, -6):
                gain = 10 ** (db / 20) * _rms(accomp) / _rms(voice)  # the voice's level while it sings
                stem = (track * gain).astype(np.float32)
                mix = stem + accomp
                peak = max(1.0, float(np.abs(mix).max()))
                out.append(Recording(f"{name} over jazz@{offset_s:.0f}s {db:+d} dB", "song",
                                     (mix / peak).astype(np.float32), stem=stem / peak))
    return out


def extra(folder: Path) -> list[Recording]:
    kinds = json.loads((folder / "kinds.json").read_text())
    out = []
    for file, kind in kinds.items():
        audio = load_audio(folder / file, max_seconds=120)
        out.append(Recording(file, kind, audio, stem=audio if kind == "voice" else None))
    return out


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)


def mouth(voice: np.ndarray, mix: np.ndarray) -> np.ndarray:
    return plan(analyse(voice.astype(np.float32), mix, fps=FPS)).mouth_open


def frame_db(x: np.ndarray, n_frames: int) -> np.ndarray:
    hop = SAMPLE_RATE // FPS
    x = np.pad(x, (0, max(0, n_frames * hop - len(x))))[: n_frames * hop].reshape(n_frames, hop)
    db = 10 * np.log10(np.mean(x.astype(np.float64) ** 2, axis=1) + 1e-12)
    return db - np.percentile(db, 95)


def best_r(a: np.ndarray, b: np.ndarray, lags=(-1, 0, 1)) -> tuple[float, int]:
    best = (-1.0, 0)
    for lag in lags:
        x, y = (a[lag:], b[: len(b) - lag]) if lag >= 0 else (a[:lag], b[-lag:])
        r = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else 0.0
        best = max(best, (r, lag))
    return best


def measure(rec: Recording) -> dict:
    start = time.perf_counter()
    voice = separate_voice(rec.mix)
    seconds = time.perf_counter() - start
    sep, raw = mouth(voice, rec.mix), mouth(rec.mix, rec.mix)
    n = len(sep)
    row = {"name": rec.name, "kind": rec.kind, "seconds": round(len(rec.mix) / SAMPLE_RATE, 2),
           "separate_s": round(seconds, 3)}
    if rec.stem is not None:
        db = frame_db(rec.stem, n)
        voiced, absent = db > VOICED_DB, db < SILENT_DB
        ref = mouth(rec.stem, rec.mix)
        row["r"], row["lag"] = (round(v, 3) for v in best_r(sep, ref))
        row["r_mix"] = round(best_r(raw, ref)[0], 3)
    elif rec.voiced is not None:
        t = np.arange(n) / FPS
        voiced = np.zeros(n, bool)
        for a, b in rec.voiced:
            voiced |= (t >= a + 0.1) & (t < b - 0.1)
        absent = ~voiced
        for a, b in rec.voiced:  # frames near a boundary count as neither
            absent &= (t < a - 0.2) | (t >= b + 0.2)
    elif rec.kind == "song":  # voice somewhere, where unknown: the mean opening only
        row["mean"] = round(float(sep.mean()), 4)
        voiced = absent = np.zeros(n, bool)
    else:  # no voice at all
        voiced, absent = np.zeros(n, bool), np.ones(n, bool)
    for key, mask in (("voiced", voiced), ("instr", absent)):
        row[key] = round(float(sep[mask].mean()), 4) if mask.sum() >= FPS // 2 else None
        row[key + "_mix"] = round(float(raw[mask].mean()), 4) if mask.sum() >= FPS // 2 else None
    return row


def meets(row: dict) -> list[str]:
    fails = []
    if row["voiced"] is not None and row["voiced"] < TARGETS["voiced"]:
        fails.append("voiced")
    if row["instr"] is not None and row["instr"] > TARGETS["instr"]:
        fails.append("instr")
    db = row["name"].rsplit(" ", 2)[-2] if row["name"].endswith(" dB") else None
    if "r" in row and row["r"] < TARGETS["r"] and (db is None or int(db) >= -3):
        fails.append("r")
    return fails


def fmt(value, width: int = 6) -> str:
    return f"{value:{width}.3f}" if value is not None else f"{'-':>{width}}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="recordings whose name contains one of these")
    parser.add_argument("--extra", type=Path, help="a folder of more real recordings with kinds.json")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "separation.json")
    args = parser.parse_args(argv)
    sets = {"real": real_recordings(), "mixes": mixes()}
    if args.extra:
        sets["extra"] = extra(args.extra)
    report, failing, total = {}, 0, 0
    print(f"{'recording':34} {'kind':12} {'voiced':>7} {'(mix)':>6} {'instr':>6} {'(mix)':>6} {'r':>6} {'lag':>3} "
          f"{'(mix)':>6}  fails")
    for set_name, recordings in sets.items():
        rows = []
        print(f"-- {set_name}")
        for rec in recordings:
            if args.only and not any(part in rec.name for part in args.only):
                continue
            row = measure(rec)
            row["fails"] = meets(row)
            rows.append(row)
            total += 1
            failing += bool(row["fails"])
            print(f"{row['name'][:34]:34} {row['kind']:12} {fmt(row['voiced'], 7)} {fmt(row['voiced_mix'])} "
                  f"{fmt(row['instr'])} {fmt(row['instr_mix'])} {fmt(row.get('r'))} {row.get('lag', ''):>3} "
                  f"{fmt(row.get('r_mix'))}  {' '.join(row['fails']) or '-'}")
        report[set_name] = rows
    rows = [r for rs in report.values() for r in rs]
    per_10s = 10 * sum(r["separate_s"] for r in rows) / max(sum(r["seconds"] for r in rows), 1e-9)
    summary = {"recordings": total, "meeting_every_target": total - failing, "targets": TARGETS,
               "separate_s_per_10s_of_audio": round(per_10s, 3),
               "median_r": round(statistics.median([r["r"] for r in rows if "r" in r]), 3) if rows else None}
    print(f"{total - failing}/{total} recordings meet every target; separation {per_10s * 1000:.0f} ms per 10 s")
    args.json.write_text(json.dumps({"summary": summary, **report, "fps": FPS}, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
