"""Command line (the ``emo`` command, or ``python -m emo``): ``emo sing PHOTO SONG -o OUT.mp4``,
``emo together PHOTO... SONG -o OUT.mp4``, ``emo check PHOTO``, ``emo songs``, in LANG's language.

Any problem with the input exits with status 2 and one line saying what is wrong.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import arrange, engines, settings
from .errors import UserError
from .messages import Message, cli_language, translate

LANGUAGE = cli_language(os.environ)  # every line this command prints is in LANG's language (English or Chinese)


def say(key: str, **params) -> str:
    return Message(key, **params).text(LANGUAGE)


def _progress_printer():
    last = [-1]

    def show(fraction: float, message: str) -> None:
        percent = int(fraction * 100)
        if percent != last[0]:
            last[0] = percent
            print(f"\r{percent:3d}% {translate(message, LANGUAGE):<60}", end="", file=sys.stderr, flush=True)
    return show


def cmd_sing(args) -> int:
    from .pipeline import sing
    from .video import share_cores_with_the_encoder

    share_cores_with_the_encoder()

    try:
        result = sing(args.photo, args.song, engine=args.engine or settings.current().engine, motion=args.motion,
                      seed=args.seed, size=args.size, start=args.start, end=args.end, out=args.output,
                      progress=None if args.quiet else _progress_printer())
    finally:
        if not args.quiet:
            print(file=sys.stderr)  # end the progress line
    _print_notices(result.notices, sys.stderr)
    print(result.video)
    return 0


def _print_notices(notices, file) -> None:
    for notice in notices:
        print(say("cli.note", text=notice), file=file)


def cmd_together(args) -> int:
    from .together import sing_together
    from .video import share_cores_with_the_encoder

    share_cores_with_the_encoder()

    arrangement = args.arrangement or ("voices" if args.voices else "together")
    if arrangement == "voices":  # each face sings its own clip: every name given is a photo
        photos, song = args.photos_and_song, None
    elif len(args.photos_and_song) < 2:
        raise UserError(Message("cli.photos_then_song"))
    else:
        photos, song = args.photos_and_song[:-1], args.photos_and_song[-1]
    try:
        result = sing_together(photos, song, arrangement=arrangement, voices=args.voices,
                               round_beats=args.round_beats, motion=args.motion, seed=args.seed, start=args.start,
                               end=args.end, out=args.output, progress=None if args.quiet else _progress_printer())
    finally:
        if not args.quiet:
            print(file=sys.stderr)
    _print_notices(result.notices, sys.stderr)
    print(result.video)
    return 0


def cmd_check(args) -> int:
    from .face import check_photo

    _, face = check_photo(args.photo)
    x0, y0, x1, y1 = face.box
    print(say("cli.ok", width=x1 - x0, height=y1 - y0, x=x0, y=y0))
    _print_notices(face.notices, sys.stdout)
    return 0


def cmd_songs(args) -> int:
    from .songs import list_songs

    for song in list_songs():
        kind = f"{say(f'song.language.{song.language}')} {say(f'song.kind.{song.kind}')}"
        length = say("units.seconds", seconds=f"{song.duration:.1f}")
        print(f"{song.id:<20} {kind:<18} {length:>8}  {song.name.text(LANGUAGE)}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emo", description=say("cli.about"))
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sing", help=say("cli.sing"), description=say("cli.sing"))
    s.add_argument("photo", help=say("cli.photo"))
    s.add_argument("song", help=say("cli.song"))
    s.add_argument("-o", "--output", required=True, help=say("cli.output"))
    s.add_argument("--engine", choices=["auto", *engines.ENGINES], help=say("cli.engine"))
    s.add_argument("--size", type=int, default=512, help=say("cli.size"))
    t = sub.add_parser("together", help=say("cli.together"), description=say("cli.together_about"))
    t.add_argument("photos_and_song", nargs="+", metavar="PHOTO... SONG", help=say("cli.photos_and_song"))
    t.add_argument("-o", "--output", required=True, help=say("cli.output"))
    t.add_argument("--arrangement", choices=arrange.ARRANGEMENTS, help=say("cli.arrangement"))
    t.add_argument("--voices", nargs="+", metavar="CLIP", help=say("cli.voices"))
    t.add_argument("--round-beats", type=int, default=8, help=say("cli.round_beats"))
    for command, run in ((s, cmd_sing), (t, cmd_together)):
        command.add_argument("--motion", type=float, default=0.5, help=say("cli.motion"))
        command.add_argument("--seed", type=int, default=0, help=say("cli.seed"))
        command.add_argument("--start", default="0", help=say("cli.start"))
        command.add_argument("--end", help=say("cli.end"))
        command.add_argument("-q", "--quiet", action="store_true", help=say("cli.quiet"))
        command.set_defaults(run=run)
    c = sub.add_parser("check", help=say("cli.check"), description=say("cli.check"))
    c.add_argument("photo", help=say("cli.photo"))
    c.set_defaults(run=cmd_check)
    sub.add_parser("songs", help=say("cli.songs"), description=say("cli.songs")).set_defaults(run=cmd_songs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings.current()  # every EMO_* variable, checked before any work
        return args.run(args)
    except UserError as err:
        print(say("cli.error", text=err.text(LANGUAGE)), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
