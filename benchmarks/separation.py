"""Voice separation for uploads without a stem: does the mouth follow the voice, not the instruments?

    .venv/bin/python benchmarks/separation.py [--songs ID ...] [--runs 5] [--json benchmarks/separation.json]

Every preset ships its mix and its exact vocal stem, so the mouth an upload would get can be compared with the mouth
the stem gives. For each preset the per-frame mouth opening (`emo.motion.plan(emo.audio.analyse(voice, mix))
.mouth_open`, 25 fps) is computed with the voice taken three ways: the true stem (the reference), the raw mix (what
an upload gets without separation) and `emo.separate.separate_voice(mix)`. Reported per preset:

  corr         Pearson correlation of the mouth with the stem-driven mouth, over the whole clip (1 = same).
  intro        mean mouth opening over the instrumental intro, the frames before voice_start - 0.2 s (the stem's
               mouth is shut there; "-" where the intro is under 0.25 s, i.e. the voice starts at once).
  gaps         mean opening over every frame where the stem is silent (intro, interludes, pauses, outro).
  no voice     mean opening for the accompaniment alone (mix - stem): a song with no voice at all (ideal 0).
  voice only   correlation for the stem alone passed through the separator (1 = a clean voice is left alone).
  + drum kit   corr and intro again, medians, with a synthetic drum kit (kick, snare, hi-hat at 100 BPM) added to
               the mix at the mix's own loudness: the presets have little percussion, real uploads do.
  + held pad   the same with a held synthetic pad (four-note chords, two seconds each) at the mix's loudness.

Openings are in inter-ocular distances, up to emo.motion.MAX_OPEN (written to the JSON with the figures).
Summary: medians over all presets (corr, gaps, no voice, voice only) and over the presets with an intro (intro).
Runtime: separate_voice on every preset and on a 30 s clip (presets joined), best and median of --runs, wall clock
and CPU time (the machine may be shared; the best run is the least disturbed).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emo.audio import SAMPLE_RATE, analyse, load_audio  # noqa: E402
from emo.motion import MAX_OPEN, plan  # noqa: E402
from emo.separate import separate_voice  # noqa: E402
from emo.songs import get_song, list_songs  # noqa: E402
from tests.accompaniment import drum_kit, held_pad  # noqa: E402

FPS = 25
INTRO_MARGIN_S = 0.2  # frames this close to voice_start are left out of the intro
MIN_INTRO_S = 0.25  # shorter intros are not scored


ADDED = {"drum kit": drum_kit, "held pad": held_pad}  # extra accompaniment, each at the mix's loudness


def mouth(voice: np.ndarray, mix: np.ndarray) -> np.ndarray:
    return plan(analyse(voice.astype(np.float32), mix, fps=FPS)).mouth_open


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 0.0


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def measure(song) -> dict:
    mix, stem = load_audio(song.mix), load_audio(song.vocals)
    stem = np.pad(stem, (0, max(0, len(mix) - len(stem))))[: len(mix)]
    seconds, separated = timed(separate_voice, mix)
    stem_features = analyse(stem, mix, fps=FPS)
    ref, raw, sep = plan(stem_features).mouth_open, mouth(mix, mix), mouth(separated, mix)
    n_intro = int((song.voice_start - INTRO_MARGIN_S) * FPS)
    has_intro = song.voice_start - INTRO_MARGIN_S >= MIN_INTRO_S
    gaps = stem_features.loudness == 0  # the stem is silent: the reference mouth is shut
    accomp = (mix - stem).astype(np.float32)
    intro = {name: round(float(m[:n_intro].mean()), 4) if has_intro else None
             for name, m in (("mix", raw), ("separated", sep), ("stem", ref))}
    added = {}
    for name, make in ADDED.items():
        extra = make(len(mix))
        louder = (mix + extra * np.sqrt(np.mean(mix.astype(np.float64) ** 2) / np.mean(extra ** 2))).astype(np.float32)
        a_raw, a_sep = mouth(louder, louder), mouth(separate_voice(louder), louder)
        added[name] = {"corr": {"mix": round(corr(ref, a_raw), 4), "separated": round(corr(ref, a_sep), 4)},
                       "intro": {"mix": round(float(a_raw[:n_intro].mean()), 4) if has_intro else None,
                                 "separated": round(float(a_sep[:n_intro].mean()), 4) if has_intro else None}}
    return {
        "id": song.id, "kind": song.kind, "seconds": round(len(mix) / SAMPLE_RATE, 3),
        "voice_start": song.voice_start, "intro_frames": n_intro if has_intro else 0,
        "corr": {"mix": round(corr(ref, raw), 4), "separated": round(corr(ref, sep), 4)},
        "intro": intro,
        "gaps": {"frames": int(gaps.sum()), "mix": round(float(raw[gaps].mean()), 4),
                 "separated": round(float(sep[gaps].mean()), 4)},
        "no_voice": {"mix": round(float(mouth(accomp, accomp).mean()), 4),
                     "separated": round(float(mouth(separate_voice(accomp), accomp).mean()), 4)},
        "voice_only_corr": round(corr(ref, mouth(separate_voice(stem), stem)), 4),
        "added": added,
        "separate_s": round(seconds, 4),
    }


def runtime(runs: int) -> dict:
    """separate_voice on a 30 s clip made of presets joined end to end (the longest an upload is used for)."""
    clip = np.concatenate([load_audio(s.mix) for s in list_songs()])[: 30 * SAMPLE_RATE]
    separate_voice(clip)  # warm-up: builds the cached comb tables
    times, cpu = [], []
    for _ in range(runs):
        start = time.process_time()
        times.append(timed(separate_voice, clip)[0])
        cpu.append(time.process_time() - start)
    return {"clip_s": 30.0, "runs": runs, "best_s": round(min(times), 4), "median_s": median(times),
            "cpu_best_s": round(min(cpu), 4)}


def median(values) -> float | None:
    values = list(values)
    return round(statistics.median(values), 4) if values else None


def fmt(value, width: int = 6) -> str:
    return f"{value:{width}.3f}" if value is not None else f"{'-':>{width}}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", nargs="*", help="preset ids (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs on the 30 s clip")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "separation.json")
    args = parser.parse_args(argv)
    songs = [get_song(s) for s in args.songs] if args.songs else list_songs()

    rows = [measure(song) for song in songs]
    print(f"{'':20} {'corr with stem mouth':>20} | {'intro mean opening':>26} | {'gaps mean opening':>17} | "
          f"{'no voice':>15} | {'voice':>5}")
    print(f"{'preset':20} {'mix':>9} {'separated':>10} | {'mix':>8} {'separated':>10} {'stem':>6} | "
          f"{'mix':>6} {'separated':>10} | {'mix':>6} {'sep':>8} | {'only':>5}")
    for r in rows:
        print(f"{r['id']:20} {r['corr']['mix']:9.3f} {r['corr']['separated']:10.3f} | {fmt(r['intro']['mix'], 8)} "
              f"{fmt(r['intro']['separated'], 10)} {fmt(r['intro']['stem'])} | {r['gaps']['mix']:6.3f} "
              f"{r['gaps']['separated']:10.3f} | {r['no_voice']['mix']:6.3f} {r['no_voice']['separated']:8.3f} | "
              f"{r['voice_only_corr']:5.3f}")

    intro_rows = [r for r in rows if r["intro"]["mix"] is not None]
    summary = {
        "presets": len(rows), "presets_with_intro": len(intro_rows),
        "corr": {k: median(r["corr"][k] for r in rows) for k in ("mix", "separated")},
        "presets_better_corr": sum(r["corr"]["separated"] > r["corr"]["mix"] for r in rows),
        "intro": {k: median(r["intro"][k] for r in intro_rows) for k in ("mix", "separated", "stem")},
        "gaps": {k: median(r["gaps"][k] for r in rows) for k in ("mix", "separated")},
        "no_voice": {k: median(r["no_voice"][k] for r in rows) for k in ("mix", "separated")},
        "voice_only_corr": median(r["voice_only_corr"] for r in rows),
        "added": {name: {"corr": {k: median(r["added"][name]["corr"][k] for r in rows) for k in ("mix", "separated")},
                         "intro": {k: median(r["added"][name]["intro"][k] for r in intro_rows)
                                   for k in ("mix", "separated")}} for name in ADDED},
    }
    audio_s = sum(r["seconds"] for r in rows)
    speed = runtime(args.runs)
    speed["per_10s_of_audio_s"] = round(10 * sum(r["separate_s"] for r in rows) / audio_s, 4)
    intro = summary["intro"]
    print(f"{'MEDIAN':20} {fmt(summary['corr']['mix'], 9)} {fmt(summary['corr']['separated'], 10)} | "
          f"{fmt(intro['mix'], 8)} {fmt(intro['separated'], 10)} {fmt(intro['stem'])} | "
          f"{fmt(summary['gaps']['mix'])} {fmt(summary['gaps']['separated'], 10)} | "
          f"{fmt(summary['no_voice']['mix'])} {fmt(summary['no_voice']['separated'], 8)} | "
          f"{summary['voice_only_corr']:5.3f}")
    for name, added in summary["added"].items():
        print(f"{'MEDIAN + ' + name:20} {fmt(added['corr']['mix'], 9)} {fmt(added['corr']['separated'], 10)} | "
              f"{fmt(added['intro']['mix'], 8)} {fmt(added['intro']['separated'], 10)}")
    print(f"separated beats mix on correlation in {summary['presets_better_corr']}/{len(rows)} presets; intro median "
          f"over the {summary['presets_with_intro']} presets with an intro of {MIN_INTRO_S} s or more")
    print(f"runtime: {speed['per_10s_of_audio_s'] * 1000:.0f} ms per 10 s of audio (presets, one pass each); "
          f"30 s clip best {speed['best_s'] * 1000:.0f} ms, median {speed['median_s'] * 1000:.0f} ms of {args.runs} "
          f"(CPU time, best: {speed['cpu_best_s'] * 1000:.0f} ms)")
    args.json.write_text(json.dumps({"summary": summary, "runtime": speed, "presets": rows, "fps": FPS,
                                     "max_open": MAX_OPEN, "intro": f"frames before voice_start - {INTRO_MARGIN_S} s"},
                                    indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
