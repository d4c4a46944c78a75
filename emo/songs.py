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

SONGS_DIR = Path(__file__).resolve().parent.parent / "assets" / "songs"
SONG_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LANGUAGE_NAMES = {"en": "English", "zh": "Mandarin"}
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
    def label(self) -> str:
        """For pickers, e.g. "Twinkle Twinkle · English · 13.9 s"."""
        return f"{self.title} · {LANGUAGE_NAMES.get(self.language, self.language)} · {self.duration:.1f} s"


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
    named = f" '{song_id}'" if isinstance(song_id, str) and SONG_ID.fullmatch(song_id[:40]) else ""  # echo ids only
    raise SongError(f"Unknown song{named}. Choose one of: {', '.join(catalogue)}.")
