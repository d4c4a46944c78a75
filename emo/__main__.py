"""Command line (the ``emo`` command, or ``python -m emo``): ``emo sing PHOTO SONG -o OUT.mp4``,
``emo together PHOTO... SONG -o OUT.mp4``, ``emo check PHOTO``, ``emo songs``.

Any problem with the input exits with status 2 and one line saying what is wrong.
"""
from __future__ import annotations

import argparse
import sys

from .errors import UserError


def _progress_printer():
    last = [-1]

    def show(fraction: float, message: str) -> None:
        percent = int(fraction * 100)
        if percent != last[0]:
            last[0] = percent
            print(f"\r{percent:3d}% {message:<60}", end="", file=sys.stderr, flush=True)
    return show


def cmd_sing(args) -> int:
    from .pipeline import sing

    try:
        result = sing(args.photo, args.song, engine=args.engine, motion=args.motion, seed=args.seed, size=args.size,
                      start=args.start, end=args.end, out=args.output,
                      progress=None if args.quiet else _progress_printer())
    finally:
        if not args.quiet:
            print(file=sys.stderr)  # end the progress line
    for notice in result.notices:
        print(f"note: {notice}", file=sys.stderr)
    print(result.video)
    return 0


def cmd_together(args) -> int:
    from .together import sing_together

    arrangement = args.arrangement or ("voices" if args.voices else "together")
    if arrangement == "voices":  # each face sings its own clip: every name given is a photo
        photos, song = args.photos_and_song, None
    elif len(args.photos_and_song) < 2:
        raise UserError("Give the photos and then the song: emo together PHOTO... SONG -o OUT.mp4")
    else:
        photos, song = args.photos_and_song[:-1], args.photos_and_song[-1]
    try:
        result = sing_together(photos, song, arrangement=arrangement, voices=args.voices,
                               round_beats=args.round_beats, motion=args.motion, seed=args.seed, start=args.start,
                               end=args.end, out=args.output, progress=None if args.quiet else _progress_printer())
    finally:
        if not args.quiet:
            print(file=sys.stderr)
    for notice in result.notices:
        print(f"note: {notice}", file=sys.stderr)
    print(result.video)
    return 0


def cmd_check(args) -> int:
    from .face import check_photo

    _, face = check_photo(args.photo)
    x0, y0, x1, y1 = face.box
    print(f"ok: one face, {x1 - x0:.0f}x{y1 - y0:.0f} px at ({x0:.0f}, {y0:.0f})")
    for notice in face.notices:
        print(f"note: {notice}")
    return 0


def cmd_songs(args) -> int:
    from .songs import list_songs

    for song in list_songs():
        print(f"{song.id:<20} {song.language:<3} {song.kind:<7} {song.duration:5.1f} s  {song.title}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emo", description="Make a photo of a face sing.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sing", help="make a singing video")
    s.add_argument("photo", help="a frontal headshot (jpg, png, webp, ...)")
    s.add_argument("song", help="a preset id (see 'emo songs') or an audio file")
    s.add_argument("-o", "--output", required=True, help="the mp4 to write")
    s.add_argument("--engine", default="auto", choices=["auto", "warp", "diffusion"])
    s.add_argument("--motion", type=float, default=0.5, help="head motion, 0 (still) to 1 (lively)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--size", type=int, default=512, help="side of the square video in pixels")
    s.add_argument("--start", default="0", help="sing from here: seconds or m:ss (default: the beginning)")
    s.add_argument("--end", help="sing to here: seconds or m:ss (default: the end, at most 5 minutes in all)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    s.set_defaults(run=cmd_sing)
    t = sub.add_parser("together", help="make several faces sing one song",
                       description="2-4 photos, or one group photo, sing one song.")
    t.add_argument("photos_and_song", nargs="+", metavar="PHOTO... SONG",
                   help="2-4 photos (or one group photo), then a preset id or an audio file (no song with --voices)")
    t.add_argument("-o", "--output", required=True, help="the mp4 to write")
    t.add_argument("--arrangement", choices=["together", "turns", "round", "voices"],
                   help="together (the default): all sing everything; turns: phrases in turn; round: each enters "
                        "later; voices (the default with --voices): each face its own clip")
    t.add_argument("--voices", nargs="+", metavar="CLIP", help="one audio clip per face, in the faces' order")
    t.add_argument("--round-beats", type=int, default=8, help="beats between a round's entries (default 8)")
    t.add_argument("--motion", type=float, default=0.5, help="head motion, 0 (still) to 1 (lively)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--start", default="0", help="sing from here: seconds or m:ss")
    t.add_argument("--end", help="sing to here: seconds or m:ss")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    t.set_defaults(run=cmd_together)
    c = sub.add_parser("check", help="check that a photo has one usable frontal face")
    c.add_argument("photo")
    c.set_defaults(run=cmd_check)
    sub.add_parser("songs", help="list the preset songs").set_defaults(run=cmd_songs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
