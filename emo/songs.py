"""The preset songs and meme lines shipped in assets/songs/ (made by scripts/make_songs.py).

Each preset has a mix (voice and instruments: the video's soundtrack) and a vocal stem, sample-aligned with the mix,
that drives the mouth, so the mouth stays closed while only instruments play.
Standard library only: the app imports this at start-up.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import SongError
from .messages import Message

SONGS_DIR = Path(__file__).resolve().parent.parent / "assets" / "songs"
SONG_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
KINDS = ("sung", "spoken")  # the order of the picker


@dataclass(frozen=True)
class Song:
    id: str
    title: str
    language: str  # "en" or "zh"
    kind: str  # "sung" or "spoken"
    lyrics: str  # in the original script
    duration: float  # seconds
    voice_start: float  # seconds; before it only instruments play (or nothing)
    licence: str
    provenance: str
    mix: Path
    vocals: Path

    @property
    def name(self) -> Message:
        """The title in the user's words (the catalogue's, by id)."""
        return Message(f"title.{self.id}")

    @property
    def label(self) -> Message:
        """For pickers, e.g. "Twinkle Twinkle · English · 13.9 s"."""
        return Message("song.label", title=self.name, language=Message(f"song.language.{self.language}"),
                       duration=self.duration)


def _load(meta_path: Path) -> Song:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    folder = meta_path.parent
    return Song(id=meta["id"], title=meta["title"], language=meta["language"], kind=meta["kind"],
                lyrics=meta["lyrics"], duration=float(meta["duration"]), voice_start=float(meta["voice_start"]),
                licence=meta["licence"], provenance=meta["provenance"],
                mix=folder / "mix.flac", vocals=folder / "vocals.flac")


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, Song]:
    songs = sorted((_load(path) for path in SONGS_DIR.glob("*/song.json")),
                   key=lambda song: (KINDS.index(song.kind), song.language, song.title.casefold(), song.id))
    return {song.id: song for song in songs}


def list_songs() -> list[Song]:
    """Every preset: sung ones first, then spoken lines; within each, by language, then title."""
    return list(_catalogue().values())


def get_song(song_id: str) -> Song:
    """The preset called `song_id`; anything not in the catalogue (or not shaped like an id) raises SongError."""
    catalogue = _catalogue()
    if isinstance(song_id, str) and SONG_ID.fullmatch(song_id) and song_id in catalogue:
        return catalogue[song_id]
    if isinstance(song_id, str) and SONG_ID.fullmatch(song_id[:40]):  # echo what is shaped like an id, only
        raise SongError(Message("song.unknown_named", name=song_id[:40], choices=", ".join(catalogue)))
    raise SongError(Message("song.unknown", choices=", ".join(catalogue)))
