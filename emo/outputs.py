"""Where finished videos go, and how long they stay (stdlib only: the app imports it at start-up)."""
from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

OUTPUT_DIR = Path(os.environ.get("EMO_OUTPUT_DIR") or Path(tempfile.gettempdir()) / "emo-outputs")
OUTPUT_TTL_S = float(os.environ.get("EMO_OUTPUT_TTL_S", "3600"))  # finished videos are deleted after this


def new_output_path() -> Path:
    """A fresh, unguessable file name in OUTPUT_DIR, after sweeping out expired videos."""
    delete_expired_outputs()
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex}.mp4"


def delete_expired_outputs(now: float | None = None) -> int:
    """Remove videos in OUTPUT_DIR older than OUTPUT_TTL_S, so a busy public Space never fills its disk."""
    now = time.time() if now is None else now
    removed = 0
    for path in OUTPUT_DIR.glob("*.mp4"):
        try:
            if now - path.stat().st_mtime > OUTPUT_TTL_S:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another request removed it first
            pass
    return removed
