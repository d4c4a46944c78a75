"""Where finished videos go, and how long they stay (stdlib only: the app imports it at start-up)."""
from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from . import settings


def output_dir() -> Path:
    """Where videos go when no folder is given: the output_dir setting, else a folder in the system's temp."""
    return settings.current().output_dir or Path(tempfile.gettempdir()) / "emo-outputs"


def new_output_path(folder: Path | None = None) -> Path:
    """A fresh, unguessable file name in `folder` (default output_dir()), after sweeping out its expired videos."""
    folder = folder or output_dir()
    delete_expired_outputs(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex}.mp4"


def delete_expired_outputs(folder: Path | None = None, now: float | None = None) -> int:
    """Remove videos in `folder` (default output_dir()) older than the output_ttl_s setting, so a public Space never
    fills its disk."""
    folder = folder or output_dir()
    now = time.time() if now is None else now
    ttl_s = settings.current().output_ttl_s
    removed = 0
    for path in folder.glob("*.mp4"):
        try:
            if now - path.stat().st_mtime > ttl_s:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another request removed it first
            pass
    return removed
