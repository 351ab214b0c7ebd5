"""The only place that tests the bundled model's accuracy.

Every other test compares code paths with each other (the command with the Python API,
ONNX Runtime with PyTorch, batched with one by one ...), so it holds for any model. Here
`speech2text transcribe`, with the defaults a user gets, is scored against the right
transcripts of speech the model never trained on: the three queries in assets/, the FSDD
test split among the fixtures, the six LJ Speech fixtures, and real people the recipe holds out as
test speakers: three LibriSpeech readers and four non-native speakers of speechocean762
(tests/fixtures/README.md).
"""

import json
import subprocess
import sys

import pytest

from conftest import ASSETS, FSDD, LIBRISPEECH, SPEECHOCEAN, fsdd_text, ljspeech_texts, transcripts
from speech2text.metrics import error_rates
from speech2text.text import normalize_text

# Corpus WER bounds. The bundled en-small (2026-12-08b: trained on real speech of 454 speakers;
# recipes/default_model) measures, with the default LM decoder (beam 128, LM weight 1.6, word score -1):
MAX_ASSET_WER = 0.0625  # 0: none of 16 words wrong
MAX_FSDD_WER = 0.10  # 0: none of 11 held-out digits wrong
MAX_LJ_WER = 0.20  # 0.180: 11 of 61 words wrong (21.7% on the 35 test utterances)
MAX_LIBRISPEECH_WER = 0.60  # 0.486: 36 of 74 words wrong (49.7% on the 171 test utterances)
MAX_SPEECHOCEAN_WER = 0.65  # 0.509: 27 of 53 words wrong, children and adults learning English (55.0% on 400)

ASSET_TEXTS = {
    ASSETS / "set_a_timer.wav": "set a timer for ten minutes",
    ASSETS / "what_is_your_name.wav": "what is your name",
    ASSETS / "weather_in_paris.flac": "what is the weather in paris",
}
FSDD_TEXTS = {path: fsdd_text(path) for path in sorted(FSDD.glob("*.flac")) if int(path.stem.split("_")[2]) < 5}
LJ_TEXTS = {path: normalize_text(text) for path, text in ljspeech_texts().items()}
LIBRISPEECH_TEXTS = {path: normalize_text(text) for path, text in transcripts(LIBRISPEECH).items()}
SPEECHOCEAN_TEXTS = {path: normalize_text(text) for path, text in transcripts(SPEECHOCEAN).items()}


@pytest.fixture(scope="module")
def heard() -> dict[str, str]:
    """What `speech2text transcribe` prints for every scored file, by path."""
    assert (len(FSDD_TEXTS), len(LJ_TEXTS), len(LIBRISPEECH_TEXTS), len(SPEECHOCEAN_TEXTS)) == (11, 6, 6, 8)
    files = [*ASSET_TEXTS, *FSDD_TEXTS, *LJ_TEXTS, *LIBRISPEECH_TEXTS, *SPEECHOCEAN_TEXTS]
    result = subprocess.run([sys.executable, "-m", "speech2text", "transcribe", "--format", "jsonl", *map(str, files)],
                            capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr.decode()
    return {record["audio"]: record["text"] for record in map(json.loads, result.stdout.decode().splitlines())}


def word_error_rate(texts: dict, heard: dict[str, str]) -> tuple[float, list]:
    """Corpus WER of what was heard against `texts` (path -> reference), and the (reference, heard) pairs."""
    pairs = [(reference, heard[str(path)]) for path, reference in texts.items()]
    return error_rates(*map(list, zip(*pairs)))["wer"], pairs


def test_the_three_assets(heard):
    wer, pairs = word_error_rate(ASSET_TEXTS, heard)
    assert wer <= MAX_ASSET_WER, pairs


def test_held_out_fsdd_digits(heard):
    wer, pairs = word_error_rate(FSDD_TEXTS, heard)
    assert wer <= MAX_FSDD_WER, pairs


def test_held_out_ljspeech_sentences(heard):
    wer, pairs = word_error_rate(LJ_TEXTS, heard)
    assert wer <= MAX_LJ_WER, pairs


def test_held_out_librispeech_readers(heard):
    wer, pairs = word_error_rate(LIBRISPEECH_TEXTS, heard)
    assert wer <= MAX_LIBRISPEECH_WER, pairs


def test_held_out_non_native_speakers(heard):
    wer, pairs = word_error_rate(SPEECHOCEAN_TEXTS, heard)
    assert wer <= MAX_SPEECHOCEAN_WER, pairs
