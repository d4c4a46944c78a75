"""Serving the app to the public: what a request may carry, and jobs that stop when their user leaves.

The one Gradio-aware module besides app.py. Everything a request carries passes three gates before `emo` sees it:
1. `RequestLimits` (ASGI): bodies over a small bound are refused before they are read whole; every response says
   `X-Content-Type-Options: nosniff`.
2. `GuardedBlocks.process_api`, which every event of every route goes through: a file may only be one that was
   uploaded here, checked before Gradio itself opens, copies or fetches it.
3. The input components hand values over unconverted, and `emo` refuses bad ones with a sentence (`UserError`).
Any other failure reaches the user as one plain sentence; the traceback goes to the server's log only.
"""
from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import gradio as gr
from gradio.utils import get_upload_folder

from .errors import Cancelled, UserError
from .messages import DEFAULT, LANGUAGES, Message, language_of

log = logging.getLogger("emo.serve")

MAX_JSON_BODY = 1024 * 1024  # an API call carries ids, numbers and upload paths: a few kB
NOSNIFF = (b"x-content-type-options", b"nosniff")
NOT_UPLOADED = Message("serve.not_uploaded")
MAX_FILES = 8  # uploads one request may name in one field (own voices: one clip per face, at most 6 faces)
SORRY = Message("serve.sorry")
MAX_PAGES = 10_000  # pages whose language is remembered (by Gradio session); the oldest are forgotten first
POLL_S = 0.25  # how often a running job checks that its user is still there and sends its latest progress


# ----------------------------------------------------------------------------------------------- request bodies

class RequestLimits:
    """ASGI middleware: bounded request bodies, and nosniff on every response.

    Uploads (multipart) may be up to `max_upload` plus a little framing; any other body up to MAX_JSON_BODY. A body
    with a Content-Length over its bound is refused at once; one without (chunked) is counted as it arrives and cut
    off at the bound, so no body is ever held whole in memory beyond it.
    """

    def __init__(self, app, max_upload: int):
        self.app = app
        self.max_upload = max_upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refused = False

        async def send_nosniff(message):
            if refused:  # the body was too large and has been answered: the app's own late answer is dropped
                return
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), NOSNIFF]}
            await send(message)

        async def refuse() -> None:
            nonlocal refused
            refused = True
            words = language_of(headers.get(b"accept-language", b"").decode("latin-1"))
            body = Message("serve.too_large", kb=limit // 1024).text(words).encode()
            await send({"type": "http.response.start", "status": 413,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode()), NOSNIFF]})
            await send({"type": "http.response.body", "body": body})

        headers = dict(scope.get("headers") or [])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/")
        limit = self.max_upload + 64 * 1024 if multipart else MAX_JSON_BODY
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                return await refuse()
            return await self.app(scope, receive, send_nosniff)  # the server reads no more than Content-Length

        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    await refuse()
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send_nosniff)


# ------------------------------------------------------------------------------------------------ files and events

def not_a_file(what: str) -> Message:
    return Message("serve.not_a_file", what=Message(f"serve.what.{what}"))


class FileInput:
    """Mixin for upload components: the handler gets the upload's path, untouched; `emo` judges the file itself."""

    what = "photo"  # which file, in the sentence refusing one sent wrong: a key of serve.what.* in the catalogue

    def preprocess(self, payload):
        return None if payload is None else payload.path

    def get_block_name(self) -> str:
        return _gradio_name(self)

    @staticmethod
    def sent_right(value) -> bool:
        """Whether a request's value is shaped as an upload of this component's kind."""
        return _is_file_data(value)


def _gradio_name(component) -> str:
    """The Gradio component a subclass of ours is drawn as in the page."""
    return next(cls for cls in type(component).__mro__ if cls.__module__.startswith("gradio.")).__name__.lower()


class PhotoInput(FileInput, gr.Image):
    pass


class AudioInput(FileInput, gr.Audio):
    what = "audio"


class FilesInput(FileInput, gr.File):
    """Several uploads at once (own voices): the handler gets their paths, in order."""

    what = "voices"

    def preprocess(self, payload):
        if payload is None:
            return None
        return [item.path for item in (payload.root if hasattr(payload, "root") else [payload])]

    @staticmethod
    def sent_right(value) -> bool:
        return isinstance(value, list) and len(value) <= MAX_FILES and all(_is_file_data(item) for item in value)


class ValueInput:
    """Mixin for value components: the handler gets the value as sent (Gradio's own checks would say only "Error");
    `emo` refuses a wrong one with a sentence that says which and why."""

    def preprocess(self, payload):
        return payload

    def get_block_name(self) -> str:
        return _gradio_name(self)


class SongPicker(ValueInput, gr.Dropdown):
    pass


class ChoiceInput(ValueInput, gr.Radio):
    pass


class NumberInput(ValueInput, gr.Number):
    pass


class SliderInput(ValueInput, gr.Slider):
    pass


class TextInput(ValueInput, gr.Textbox):
    pass


class LanguagePicker(ValueInput, gr.Radio):
    """The page's language switch. What it shows is remembered for its page (`remember_language`), so every later
    event of that page answers in it without taking it as an input (the API stays as it is)."""


_page_languages: OrderedDict[str, str] = OrderedDict()  # Gradio session hash -> language, most recent last
_pages_lock = threading.Lock()


def remember_language(request: gr.Request | None, language: str) -> None:
    """The page that sent `request` now shows `language`. Kept on the server, by session: a cookie would not be
    stored for a Space, which runs in a cross-site frame."""
    session = getattr(request, "session_hash", None)
    if isinstance(session, str) and isinstance(language, str) and language in LANGUAGES:
        with _pages_lock:
            _page_languages[session] = language
            _page_languages.move_to_end(session)
            while len(_page_languages) > MAX_PAGES:
                _page_languages.popitem(last=False)


def request_language(request: gr.Request | None) -> str:
    """The language a request's answers are in: its page's (the switch), else the browser's first that we have."""
    if isinstance(request, list):  # a batched event: its requests come from one page
        request = request[0] if request else None
    try:
        session = getattr(request, "session_hash", None)
        with _pages_lock:
            shown = _page_languages.get(session) if isinstance(session, str) else None
        return shown or language_of((getattr(request, "headers", None) or {}).get("accept-language"))
    except Exception:  # whatever a request carries, a language is no reason to fail it
        return DEFAULT


class GuardedBlocks(gr.Blocks):
    """Blocks whose every event first checks the files it names, and which answers every failure with a sentence."""

    async def process_api(self, block_fn, inputs, *args, **kwargs) -> dict[str, Any]:
        language = request_language(kwargs.get("request"))
        try:
            fn = self.fns[block_fn] if isinstance(block_fn, int) else block_fn
            if not isinstance(inputs, list) or len(inputs) < len(fn.inputs):
                raise UserError(Message("serve.incomplete", count=len(fn.inputs)))
            for block, value in zip(fn.inputs, inputs):
                if isinstance(block, FileInput) and value is not None and not block.sent_right(value):
                    raise UserError(not_a_file(block.what))
            for path in _paths_in(inputs):
                self.check_readable(path)
            return await super().process_api(block_fn, inputs, *args, **kwargs)
        except gr.Error:
            raise
        except UserError as err:
            raise gr.Error(err.text(language), print_exception=False) from None
        except Exception:
            log.exception("request failed")
            raise gr.Error(SORRY.text(language), print_exception=False) from None

    @staticmethod
    def check_readable(path: str) -> None:
        """A file a request may name: one in Gradio's upload folder (uploads, and the examples Gradio copied there).

        One sentence for every refusal, so the answer does not tell whether a path exists.
        """
        uploads = os.path.realpath(get_upload_folder())
        try:
            real = os.path.realpath(path)
        except ValueError:  # a NUL byte in the path
            raise UserError(NOT_UPLOADED) from None
        if os.path.commonpath([real, uploads]) != uploads or real == uploads or not os.path.isfile(real):
            raise UserError(NOT_UPLOADED)


def _is_file_data(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("path"), str)


def _paths_in(value) -> Iterator[str]:
    """Every "path" a request names anywhere in its values (Gradio treats any dict with one as a file)."""
    if isinstance(value, dict):
        if "path" in value:
            path = value["path"]
            yield path if isinstance(path, str) else ""  # not a string: can only be refused
        for item in value.values():
            yield from _paths_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _paths_in(item)


# ------------------------------------------------------------------------------------------------------- jobs

class Job:
    """`work(stop, report)` in a worker thread, watched from the event handler.

    Iterating the job yields, every POLL_S, its latest progress as (fraction, message), or None when nothing new
    came, so that a generator handler hands control back to Gradio often: Gradio closes a generator whose user left,
    which ends the `with` block early and sets `stop`; the work then ends between two frames and removes its files.
    The work's reports only replace the latest one (no queue, no thread woken per frame), and no one reads progress
    faster: sent per frame, updates took the event loop's time from the work (a 3-minute song took 1.8x as long).
    """

    def __init__(self, work: Callable[[threading.Event, Callable[[float, str], None]], Any]):
        self.stop = threading.Event()
        self._work = work
        self._latest: tuple[float, str] | None = None
        self._finished = threading.Event()
        self._result = self._error = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="emo-job")

    def __enter__(self) -> "Job":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread.is_alive():
            self.stop.set()
            log.info("job stopped: its user left")

    def _report(self, fraction: float, message: str) -> None:
        self._latest = (fraction, message)

    def _run(self) -> None:
        try:
            self._result = self._work(self.stop, self._report)
        except Cancelled:
            pass
        except BaseException as err:  # handed to the handler's thread, which reports it
            self._error = err
        finally:
            _give_back_memory()
            self._finished.set()

    def __iter__(self) -> Iterator[tuple[float, str] | None]:
        sent = None
        while True:
            finished = self._finished.wait(POLL_S)
            latest = self._latest
            if latest is not sent:
                yield latest
                sent = latest
            elif not finished:
                yield None
            if finished:
                return

    def result(self):
        """The work's return value, or its exception raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def _give_back_memory() -> None:
    """Return the heap's free pages to the system after a job (glibc keeps them in each thread's arena otherwise:
    after a few large photos the server held 300 MB more than it used)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


# ------------------------------------------------------------------------------------------------------ start-up

QUEUE_POLL_S = 0.02  # how often Gradio's queue looks for new events (its own default: every 1 ms)


def calm_queue(blocks: gr.Blocks) -> None:
    """Let Gradio's queue look for new events every QUEUE_POLL_S instead of every millisecond: each look takes the
    interpreter from a running job (a served 10 s video took 0.1 s longer), and an idle Space would wake a
    thousand times a second. A job takes seconds; 20 ms more before it starts is nothing."""
    if not hasattr(blocks._queue, "sleep_when_free"):  # a Gradio that polls differently: nothing to calm
        log.warning("Gradio's queue has no sleep_when_free; left as it is")
        return
    blocks._queue.sleep_when_free = QUEUE_POLL_S


def check_setup(output_dir: Path, files: Iterable[Path]) -> None:
    """Stop at start-up, with a sentence, when the host's setup cannot work: outputs not writable, files missing."""
    missing = [str(path) for path in files if not Path(path).is_file()]
    if missing:
        raise SystemExit(f"The app's own files are missing: {', '.join(missing[:3])}"
                         f"{' and more' if len(missing) > 3 else ''}. Deploy the whole repository, with assets/.")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        probe = output_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        raise SystemExit(f"The output folder {output_dir} cannot be written to ({err.strerror or err}). "
                         "Set GRADIO_TEMP_DIR to a folder this app may write in.") from None
