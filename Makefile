# Two commands on a fresh machine: `make run` serves the app on the CPU engine; `make test` runs the whole suite.
# `make test-fast` leaves out the tests marked slow (whole videos, a served app, the browser): about 30 s.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: run test test-fast bench measure-tools songs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: re-install only when a requirements file or pyproject.toml changes. The project itself goes in
# editable and without dependencies, so requirements.txt's pins decide every version.
$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q -e . --no-deps
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	scripts/install-browser.sh
	touch $@

run: $(VENV)/.runtime
	EMO_ENGINE=$${EMO_ENGINE:-warp} GRADIO_SERVER_NAME=$(HOST) GRADIO_SERVER_PORT=$(PORT) $(BIN)/python app.py

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q

test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(VENV)/.dev
	$(BIN)/python benchmarks/speed.py

# MediaPipe FaceMesh in its own venv: the independent ruler benchmarks/quality.py reads mouths and eyes with.
measure-tools: .venv-measure/.done
.venv-measure/.done: benchmarks/requirements-measure.txt
	$(PYTHON) -m venv .venv-measure
	.venv-measure/bin/python -m pip install -q -r benchmarks/requirements-measure.txt
	touch $@

# Regenerates assets/songs (needs Debian's espeak-ng, fluidsynth and fluid-soundfont-gm; not part of CI).
songs:
	$(PYTHON) -m venv .venv-songs
	.venv-songs/bin/python -m pip install -q -r scripts/requirements-songs.txt
	.venv-songs/bin/python scripts/make_songs.py

clean:
	rm -rf $(VENV) .venv-songs .venv-measure .pytest_cache emo.egg-info build
