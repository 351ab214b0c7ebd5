# Two commands do all the setup on a fresh machine:
#   make run    creates .venv, installs speech2text, transcribes assets/ with the bundled model
#   make test   the same install and the Debian packages the tests need, then the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install system-packages run test test-fast bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[train,dev,voices,whisper,serve]'
	touch $@

# espeak-ng, festival, sox, PulseAudio ...: installed when missing as root with apt-get, else named in one line.
system-packages:
	@.ci/apt-packages.sh

install: system-packages $(VENV)/.installed

run: install
	@for f in assets/*.wav assets/*.flac; do printf '%s\t' "$$f"; $(BIN)/speech2text transcribe "$$f"; done

test: install
	$(BIN)/python -m pytest -q --durations=10

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

# Every benchmark, each printing its table and writing benchmarks/results/*.json.
bench: install
	$(BIN)/python benchmarks/frontend.py
	$(BIN)/python benchmarks/transcribe_rtf.py
	$(BIN)/python benchmarks/footprint.py
	$(BIN)/python benchmarks/accuracy.py
	$(BIN)/python benchmarks/listen_latency.py
	$(BIN)/python benchmarks/serve_load.py
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/architectures.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
