"""Where finished videos go, and how long they stay (stdlib only: the app imports it at start-up)."""
from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

OUTPUT_DIR = Path(os.environ.get("EMO_OUTPUT_DIR") or Path(tempfile.gettempdir()) / "emo-outputs")
OUTPUT_TTL_S = float(os.environ.get("EMO_OUTPUT_TTL_S", "3600"))  # finished videos are deleted after this


def new_output_path(folder: Path | None = None) -> Path:
    """A fresh, unguessable file name in `folder` (default OUTPUT_DIR), after sweeping out its expired videos."""
    folder = folder or OUTPUT_DIR
    delete_expired_outputs(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex}.mp4"


def delete_expired_outputs(folder: Path | None = None, now: float | None = None) -> int:
    """Remove videos in `folder` (default OUTPUT_DIR) older than OUTPUT_TTL_S, so a public Space never fills its disk."""
    folder = folder or OUTPUT_DIR
    now = time.time() if now is None else now
    removed = 0
    for path in folder.glob("*.mp4"):
        try:
            if now - path.stat().st_mtime > OUTPUT_TTL_S:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another request removed it first
            pass
    return removed
