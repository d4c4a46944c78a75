"""Make a photo of a face sing: ``emo.sing(photo, song)`` returns an mp4; ``emo.sing_together(photos, song)`` makes
several faces sing one song.

Names are resolved on first use (PEP 562), so ``import emo`` stays cheap for the app's start-up.
"""
from .errors import AudioError, EngineUnavailable, FaceError, PhotoError, SongError, UserError

_LAZY = {
    "sing": ("pipeline", "sing"),
    "sing_together": ("together", "sing_together"),
    "group_stage": ("group", "stage_of"),
    "numbered_faces": ("group", "numbered"),
    "SingOptions": ("pipeline", "SingOptions"),
    "SingResult": ("pipeline", "SingResult"),
    "check_photo": ("face", "check_photo"),
    "list_songs": ("songs", "list_songs"),
    "get_song": ("songs", "get_song"),
}

__all__ = ["AudioError", "EngineUnavailable", "FaceError", "PhotoError", "SongError", "UserError", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'emo' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    return getattr(importlib.import_module(f".{module}", __name__), attr)
