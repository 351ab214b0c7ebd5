"""The bad-input battery (issue 19): each case a user can hit, with one clear line and nothing lost.

Rules under test: a command never writes over its own input; numeric flags are finite and bounded.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
BUNDLED = ROOT / "speech2text" / "pretrained" / "en-small.pt"


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "speech2text", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)  # fmt: skip


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_refuses_to_write_over_its_own_model(tmp_path, fmt):
    victim = tmp_path / "victim.pt"
    shutil.copy(BUNDLED, victim)
    before = victim.read_bytes()
    result = run("export", "--format", fmt, "--model", victim, victim)
    assert result.returncode == 1
    assert "also an input" in one_error_line(result)
    assert victim.read_bytes() == before


def test_lm_build_refuses_to_write_over_its_text(tmp_path):
    text = tmp_path / "a.txt"
    text.write_text("turn on the lights\nturn off the lights\n")
    before = text.read_bytes()
    result = run("lm", "build", text, "-o", text)
    assert result.returncode == 1 and "also an input" in one_error_line(result)
    assert text.read_bytes() == before


@pytest.mark.parametrize(
    "flags",
    [
        ["--lm-weight", "nan"],
        ["--lm-weight", "inf"],
        ["--word-score", "nan"],
        ["--hotword", "paris:nan"],
        ["--threads", "100000"],
        ["--threads", "0"],
    ],
)
def test_transcribe_refuses_numbers_that_would_silently_break_it(flags):
    result = run("transcribe", ASSETS / "weather_in_paris.flac", *flags, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert flags[0] in result.stderr and "Traceback" not in result.stderr


def test_lm_tune_refuses_non_finite_grids():
    result = run("lm", "tune", "--manifest", "unused.jsonl", "--word-scores", "0,nan", timeout=60)
    assert result.returncode == 2 and "finite" in result.stderr


@pytest.mark.parametrize("name", ["weather_in_paris.flac", "set_a_timer.wav", "what_is_your_name.wav"])
def test_the_live_path_keeps_every_word_of_speech_that_starts_at_the_first_sample(name):
    """Each asset starts speaking at its first sample; the endpointed utterance (with its trailing
    end-of-speech silence) must read as the whole file does (issue 19: "... in paris" was lost)."""
    from speech2text.transcribe import Transcriber

    transcriber = Transcriber.from_pretrained()
    finals = [e.text for e in transcriber.stream(ASSETS / name, partial_interval_ms=0) if e.type == "final"]
    assert finals == [transcriber.transcribe(ASSETS / name).text]
