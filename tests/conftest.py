from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
# Real recordings carried with the tests, so that a fresh clone needs nothing beside it (fixtures/README.md).
FIXTURES = ROOT / "tests" / "fixtures"
FSDD = FIXTURES / "fsdd"  # {digit}_{speaker}_{index}.flac, 8 kHz
LJSPEECH = FIXTURES / "ljspeech"  # {id}.flac, 16 kHz, with metadata.csv
LIBRISPEECH = FIXTURES / "librispeech"  # {speaker}-{chapter}-{n}.mp3 of three test readers, with transcripts.txt
SPEECHOCEAN = FIXTURES / "speechocean762"  # {utterance}.ogg of four non-native test speakers, with transcripts.txt
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def fsdd_text(path: Path) -> str:
    """The transcript of an FSDD recording: the digit in its file name, spelled out."""
    return DIGITS[int(path.name.split("_")[0])]


def ljspeech_texts() -> dict[Path, str]:
    """Each LJ Speech fixture file with its normalized transcript (metadata.csv: id|raw|normalized), in id order."""
    rows = (line.split("|") for line in (LJSPEECH / "metadata.csv").read_text(encoding="utf-8").splitlines())
    return {LJSPEECH / f"{utterance_id}.flac": normalized for utterance_id, _, normalized in sorted(rows)}


def transcripts(folder: Path) -> dict[Path, str]:
    """Each audio file of a fixture folder with its transcript (transcripts.txt: 'UTTERANCE-ID TRANSCRIPT')."""
    lines = (folder / "transcripts.txt").read_text(encoding="utf-8").splitlines()
    files = {path.stem: path for path in folder.iterdir() if path.suffix in (".mp3", ".ogg", ".flac")}
    return {files[utterance]: text for utterance, _, text in (line.partition(" ") for line in lines)}


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
        path = FSDD / f"{digit}_jackson_10.flac"
        info = soundfile.info(str(path))
        rows.append({"audio": str(path), "text": DIGITS[digit], "duration": info.frames / info.samplerate})
    manifest = tmp_path / "digits.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return manifest
