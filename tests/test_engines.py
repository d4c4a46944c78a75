"""The engine contract and its registry: what every engine states, how "auto" picks, what users see of it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from emo import engines
from emo.engines import CONTROLS, ENGINES, Cost, Engine, engine_class, load_engine, resolve
from emo.errors import EngineUnavailable

ROOT = Path(__file__).resolve().parent.parent
# Everything the Protocol names: its class attributes and its methods.
CONTRACT = set(Engine.__annotations__) | {"unavailable_reason", "load", "render"}


@pytest.mark.parametrize("name", list(ENGINES))
def test_every_registered_engine_states_the_whole_contract(name):
    cls = engine_class(name)
    assert CONTRACT <= set(dir(cls)), CONTRACT - set(dir(cls))
    assert cls.name == name
    assert isinstance(cls.controls, frozenset) and cls.controls <= CONTROLS
    assert isinstance(cls.cost, Cost) and cls.cost.fixed_s >= 0 and cls.cost.per_second_s > 0
    assert isinstance(cls.preference, int)


def test_the_registry_loads_no_heavy_package():
    """Every engine's class, its costs and controls, and "auto" without a GPU: no torch, diffusers or transformers."""
    code = ("import sys; from emo.engines import ENGINES, engine_class, resolve; "
            "[engine_class(n).cost for n in ENGINES]; "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_diffusion_engine_declares_only_what_it_follows():
    """EchoMimic v1 takes no pose: the motion plan is not read (its render runs with motion=None in
    test_diffusion_engine.py), so it must not claim head motion; the warp engine draws every frame from the plan."""
    assert engine_class("diffusion").controls == {"seed"}
    assert engine_class("warp").controls == {"motion", "seed"}


def test_an_unknown_engine_gets_a_sentence():
    with pytest.raises(EngineUnavailable) as caught:
        resolve("magic")
    assert str(caught.value) == f"Unknown engine 'magic'. Choose one of: {', '.join(['auto', *ENGINES])}."
    with pytest.raises(EngineUnavailable, match="Unknown engine"):
        load_engine("magic")


# Stand-ins registered by the next tests, as "tests.test_engines:Class".
class _Fake:
    controls = frozenset({"seed"})
    cost = Cost(1.0, 1.0)
    reason: str | None = None

    @classmethod
    def unavailable_reason(cls, auto: bool) -> str | None:
        return cls.reason

    @classmethod
    def load(cls):
        return cls()

    def render(self, job, progress):
        return iter(())


class Best(_Fake):
    name, preference, reason = "best", 20, "Best needs hardware this machine lacks."


class Good(_Fake):
    name, preference = "good", 10


class Plain(_Fake):
    name, preference = "plain", 0


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(engines, "ENGINES", {n: f"tests.test_engines:{c}" for n, c in
                                             (("plain", "Plain"), ("best", "Best"), ("good", "Good"))})
    monkeypatch.setattr(engines, "_loaded", {})


def test_auto_takes_the_most_preferred_engine_that_can_run(fakes, monkeypatch):
    assert resolve("auto") == "good"  # best is preferred, but unavailable
    monkeypatch.setattr(Best, "reason", None)
    assert resolve("auto") == "best"
    assert isinstance(load_engine("auto"), Best)


def test_an_unavailable_engine_says_why(fakes):
    with pytest.raises(EngineUnavailable, match="^Best needs hardware this machine lacks.$"):
        load_engine("best")
    assert isinstance(load_engine("plain"), Plain) and load_engine("plain") is load_engine("plain")  # loaded once


def test_the_cli_offers_every_registered_engine(fakes, capsys):
    from emo.__main__ import parser

    sing = ["sing", "me.jpg", "twinkle-twinkle", "-o", "out.mp4", "--engine"]
    assert parser().parse_args(sing + ["good"]).engine == "good"
    with pytest.raises(SystemExit):
        parser().parse_args(sing + ["warp"])
    assert "--engine {auto,plain,best,good}" in capsys.readouterr().err


def test_the_app_shows_the_engines_wait_and_only_the_controls_it_follows(app, fakes, monkeypatch):
    import gradio as gr

    monkeypatch.setattr(app, "ENGINE_NAME", "good")
    song = next(iter(app.SONGS.values()))
    text, _ = app.song_card(song.id)
    assert f"Engine: **good** · about {1 + song.duration:.0f} s to make" in text
    assert f"引擎：**good** · 生成约需 {1 + song.duration:.0f} 秒" in app.song_card(song.id, "zh")[0]
    with gr.Blocks():
        motion, seed = app._take_inputs(app.Words(), Good.controls)
        assert not motion.visible and seed.visible
        motion, seed = app._take_inputs(app.Words(), CONTROLS)
        assert motion.visible and seed.visible


@pytest.mark.slow
def test_an_engine_that_ignores_head_motion_says_so(fakes, monkeypatch, tmp_path):
    import emo

    from . import images

    def still(self, job, progress):
        for done in range(1, job.n_frames + 1):
            progress(done, job.n_frames)
            yield job.portrait
    monkeypatch.setattr(Good, "render", still)
    song = min(emo.list_songs(), key=lambda s: s.duration).id
    asked = emo.sing(images.astronaut(), song, engine="good", motion=1.0, size=256, out=tmp_path / "asked.mp4")
    assert "The good engine moves the head by itself; the head-motion setting was not used." in asked.notices
    left = emo.sing(images.astronaut(), song, engine="good", size=256, out=tmp_path / "left.mp4")
    assert not any("head-motion" in notice for notice in left.notices)
