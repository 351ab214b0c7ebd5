from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ASSETS = ROOT / "assets"
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture
def speechlike() -> np.ndarray:
    """Two seconds of a chirp with harmonics, amplitude-modulated like syllables, float32 16 kHz."""
    t = np.arange(32_000) / 16_000
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / 16_000
    signal = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    return (0.3 * signal / np.abs(signal).max()).astype(np.float32)


@pytest.fixture
def fsdd_manifest(tmp_path) -> Path:
    """Four real FSDD recordings of four different digits, as a manifest."""
    rows = []
    for digit in (0, 1, 3, 7):
        path = SHARED / "fsdd" / "recordings" / f"{digit}_jackson_10.flac"
        info = soundfile.info(str(path))
        rows.append({"audio": str(path), "text": DIGITS[digit], "duration": info.frames / info.samplerate})
    manifest = tmp_path / "digits.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return manifest
