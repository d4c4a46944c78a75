"""The served app's jobs: progress passed on at a steady pace, the latest first, the end at once; a calm queue."""
from __future__ import annotations

import inspect
import time

import gradio.queueing

from emo import serve


def _reporting(count: int, seconds: float):
    """Work that reports `count` updates evenly over `seconds`, as an engine reports each frame."""
    def work(stop, report):
        for i in range(count):
            report((i + 1) / count, f"frame {i + 1}/{count}")
            time.sleep(seconds / count)
        return "video"
    return work


def test_a_frame_by_frame_job_sends_a_few_updates_a_second_and_the_last_one():
    began = time.monotonic()
    with serve.Job(_reporting(2000, 1.0)) as job:
        updates = [update for update in job if update]
        result = job.result()
    elapsed = time.monotonic() - began
    assert result == "video"
    assert 2 <= len(updates) <= elapsed / serve.POLL_S + 2, (len(updates), elapsed)
    assert updates[-1] == (1.0, "frame 2000/2000")  # the latest, not the first of a burst
    fractions = [fraction for fraction, _ in updates]
    assert fractions == sorted(fractions)


def test_the_end_is_not_held_back_by_the_pace():
    with serve.Job(_reporting(3, 0.0)) as job:
        began = time.monotonic()
        updates = [update for update in job if update]
        waited = time.monotonic() - began
    assert updates[-1] == (1.0, "frame 3/3")
    assert waited < serve.POLL_S / 2, waited


def test_gradio_s_queue_looks_for_events_calmly(app):
    """Gradio's queue polls every 1 ms by default, taking the interpreter from running jobs; the app slows it, and
    this fails if a Gradio upgrade polls some other way (the setting would then do nothing)."""
    assert app.demo._queue.sleep_when_free == serve.QUEUE_POLL_S
    assert "self.sleep_when_free" in inspect.getsource(gradio.queueing.Queue.start_processing)
