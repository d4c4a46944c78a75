"""Every setting a host can make, in one frozen dataclass built once from the environment.

``current()`` is what the code reads: built from ``os.environ`` on the first call (never at import), so a bad value
stops the app or the CLI at start-up with one sentence (``SettingError``). ``using(...)`` runs a block with other
settings (tests, scripts). ``python -m emo.settings`` prints the table in README.md.
"""
from __future__ import annotations

import importlib
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from .errors import UserError


class SettingError(UserError):
    """A setting from the environment has a value the app cannot use."""


# ---------------------------------------------------------------------------------------- how values are read

@dataclass(frozen=True)
class Whole:
    low: int
    high: int

    def parse(self, env: str, text: str) -> int:
        if not (text.isascii() and text.isdigit()) or not self.low <= int(text) <= self.high:
            raise SettingError(f"{env}={text!r} is not a whole number from {self.low} to {self.high}. "
                               "Fix the Space's variables.")
        return int(text)


@dataclass(frozen=True)
class Seconds:
    low: float
    high: float

    def parse(self, env: str, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not self.low <= value <= self.high:
            raise SettingError(f"{env}={text!r} is not a number of seconds from {self.low:.0f} to {self.high:.0f}. "
                               "Fix the Space's variables.")
        return value


@dataclass(frozen=True)
class Size:
    """"25mb" (b, kb, mb, gb; 1 kb = 1024 b), in bytes."""

    def parse(self, env: str, text: str) -> int:
        text = text.lower().replace(" ", "")
        number, unit = text.rstrip("kmgb"), text[len(text.rstrip("kmgb")):]
        units = {"b": 1, "": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
        if not (number.isascii() and number.isdigit()) or unit not in units or int(number) == 0:
            raise SettingError(f"{env}={text!r} is not a size such as 25mb. Fix the Space's variables.")
        return int(number) * units[unit]


@dataclass(frozen=True)
class Choice:
    options: tuple[str, ...] | Callable[[], tuple[str, ...]]  # a callable: the options are known at run time

    def parse(self, env: str, text: str) -> str:
        options = self.options() if callable(self.options) else self.options
        choice = text.lower()
        if choice not in options:
            raise SettingError(f"{env}='{choice}' is not known. Use one of: {', '.join(options)}.")
        return choice


@dataclass(frozen=True)
class Mark:
    """The visible mark: Pillow's built-in font draws Latin script only, and the pill must fit a 256 px frame."""

    longest: int = 40

    def parse(self, env: str, text: str) -> str:
        if len(text) > self.longest or not text.isprintable() or any(ord(c) >= 0x250 for c in text):
            raise SettingError(f"{env}={text!r} is not a short line of Latin-script text (at most {self.longest} "
                               "characters). Fix the Space's variables.")
        return text


@dataclass(frozen=True)
class Text:
    def parse(self, env: str, text: str) -> str:
        return text


@dataclass(frozen=True)
class Folder:
    def parse(self, env: str, text: str) -> Path:
        return Path(text).expanduser()


def _options(module: str, name: str, *extra: str) -> Callable[[], tuple[str, ...]]:
    """Options kept by the module whose choice they are, imported only when a value is checked."""
    return lambda: (*extra, *getattr(importlib.import_module(f"emo.{module}"), name))


def setting(default: Any, env: str, kind, help: str, shown: str | None = None):
    """A field of Settings: its default, the variable that sets it, how its text is read, one line for the README
    (`shown`: the default as the table gives it, when the value itself would not say it)."""
    return field(default=default, metadata={"env": env, "kind": kind, "help": help,
                                            "shown": shown if shown is not None else f"`{default}`"})


# ----------------------------------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class Settings:
    engine: str = setting("auto", "EMO_ENGINE", Choice(_options("engines", "ENGINES", "auto")),
                          "`warp` (CPU), `diffusion` (GPU), or `auto`: the most preferred engine that can run here "
                          "without a download (diffusion when a GPU and its weights are there)")
    mark_text: str = setting("AI-generated", "EMO_MARK_TEXT", Mark(),
                             "the visible mark in every video's corner (Latin script); the mp4 tags say it too")
    concurrency: int = setting(2, "EMO_CONCURRENCY", Whole(1, 64), "videos the app makes at once")
    queue_size: int = setting(32, "EMO_QUEUE_SIZE", Whole(1, 10_000),
                              "people waiting in the app (each sees their place in the queue)")
    max_upload: int = setting(25 * 1024**2, "EMO_MAX_UPLOAD", Size(), "largest photo or audio upload", "`25mb`")
    output_ttl_s: float = setting(3600.0, "EMO_OUTPUT_TTL_S", Seconds(1, 30 * 24 * 3600),
                                  "seconds after which finished videos (and Gradio's copies of uploads) are deleted",
                                  "`3600`")
    output_dir: Path | None = setting(None, "EMO_OUTPUT_DIR", Folder(),
                                      "where `emo.sing` in Python puts a video when given no `out`; the app keeps its "
                                      "videos in Gradio's own cache (`GRADIO_TEMP_DIR`), one copy each",
                                      "system temp")
    max_seconds: float = setting(300.0, "EMO_MAX_SECONDS", Seconds(1, 3600),
                                 "longest part of a song sung into one video (longer parts are cut, with a notice)",
                                 "`300`")
    landmarks: str = setting("auto", "EMO_LANDMARKS", Choice(_options("face", "BACKENDS")),
                             "`dlib`, or `face-alignment` when its weights are in `torch.hub`'s cache; `auto`: "
                             "face-alignment when it can")
    separator: str = setting("auto", "EMO_SEPARATOR", Choice(_options("separate", "SEPARATORS")),
                             "how the voice is taken out of an upload: `spleeter` (offline, weights in a package), "
                             "`demucs` (better on dense mixes, ~10x slower on a CPU; downloads 84 MB once into the "
                             "Hugging Face cache), `auto`: demucs once its weights are cached, else spleeter")
    demucs_repo: Path | None = setting(None, "EMO_DEMUCS_REPO", Folder(),
                                       "a local folder in Demucs's own repo layout to load its weights from instead "
                                       "of the hub", "none")
    diffusion_variant: str = setting("fast", "EMO_DIFFUSION_VARIANT",
                                     Choice(_options("diffusion.weights", "VARIANTS")),
                                     "the diffusion engine's weights: `fast` (accelerated, 6 steps, no guidance) or "
                                     "`quality` (30 steps with guidance, about 10x slower)")
    diffusion_path: Path | None = setting(None, "EMO_DIFFUSION_PATH", Folder(),
                                          "a local folder to load the diffusion weights from instead of the hub "
                                          "(layout in `emo/diffusion/weights.py`)", "none")
    diffusion_fp16_cache: Path | None = setting(None, "EMO_DIFFUSION_FP16_CACHE", Folder(),
                                                "a folder (e.g. persistent storage) for half-size safetensors copies "
                                                "of the diffusion weights: faster loads next time", "none")
    diffusion_device: str | None = setting(None, "EMO_DIFFUSION_DEVICE", Text(),
                                           "where the diffusion engine runs (e.g. `cpu` for tiny test weights) "
                                           "instead of requiring CUDA", "CUDA")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """The settings `environ` (default os.environ) makes: unset or blank variables keep their defaults. Every
        bad value is named, one sentence each, in one SettingError."""
        environ = os.environ if environ is None else environ
        values, problems = {}, []
        for f in fields(cls):
            text = (environ.get(f.metadata["env"]) or "").strip()
            if not text:
                continue
            try:
                values[f.name] = f.metadata["kind"].parse(f.metadata["env"], text)
            except SettingError as err:
                problems.append(str(err))
        if problems:
            raise SettingError(" ".join(problems))
        return cls(**values)


def markdown_table() -> str:
    """README's table of settings, made from the fields above."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    rows += [f"| `{f.metadata['env']}` | {f.metadata['shown']} | {f.metadata['help']} |" for f in fields(Settings)]
    return "\n".join(rows)


# ------------------------------------------------------------------------------------------- the current settings

_current: Settings | None = None
_lock = threading.Lock()


def current() -> Settings:
    """The settings in force: from the environment on the first call, or those a `using` block put in place."""
    global _current
    with _lock:
        if _current is None:
            _current = Settings.from_env()
        return _current


@contextmanager
def using(settings: Settings | None = None, **changes) -> Iterator[Settings]:
    """Run a block with `settings` (default: the current ones) changed by `changes`, e.g.
    ``with using(separator="spleeter"): ...``. For tests and scripts, one block at a time: the swap is
    process-wide, not per thread (jobs run in threads of their own and must see it), and the changes are taken as
    given, unchecked."""
    global _current
    chosen = replace(settings or current(), **changes)
    with _lock:
        before, _current = _current, chosen
    try:
        yield chosen
    finally:
        with _lock:
            _current = before


if __name__ == "__main__":
    print(markdown_table())
