"""The torch-free runtime (ONNX Runtime + numpy frontend) against the PyTorch path it stands in for."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torchaudio

from conftest import ASSETS, LJSPEECH
from speech2text import Transcriber, load_audio
from speech2text.export import export, onnx_metadata
from speech2text.features import FeatureConfig, LogMel
from speech2text.mel import log_mel, mel_filterbank
from speech2text.backends import OnnxBackend
from speech2text.bundled import bundled_onnx_model
from speech2text.errors import CheckpointError
from speech2text.transcribe import load_transcriber

SETTINGS = {**FeatureConfig().to_dict(), "win_length": FeatureConfig().win_length, "hop_length": FeatureConfig().hop_length}


@pytest.fixture(scope="module")
def both():
    return Transcriber.from_pretrained(), load_transcriber(runtime="onnx")


def test_mel_filterbank_equals_torchaudios():
    expected = torchaudio.functional.melscale_fbanks(257, 0.0, 8000.0, 80, 16000, norm="slaney", mel_scale="slaney")
    np.testing.assert_allclose(mel_filterbank(16000, 512, 80), expected.numpy(), atol=1e-7)


@pytest.mark.parametrize("level_db", [-9.0, None])
@pytest.mark.parametrize("length", [32_000, 20_001, 399, 1])
def test_numpy_log_mel_matches_the_torch_frontend(speechlike, length, level_db):
    samples = speechlike[:length] * np.float32(0.1)  # 20 dB down, so that the level normalization has work to do
    expected, frames = LogMel(FeatureConfig(level_db=level_db))(torch.from_numpy(samples)[None])
    got = log_mel(samples, {**SETTINGS, "level_db": level_db})
    assert got.shape == (frames.item(), 80)
    np.testing.assert_allclose(got, expected[0].numpy(), atol=2e-4, rtol=1e-4)


def test_numpy_log_mel_matches_on_real_speech():
    samples = load_audio(ASSETS / "weather_in_paris.flac")
    expected, _ = LogMel()(torch.from_numpy(samples)[None])
    # Near the log floor (silence) float32 rounding moves logs the most; speech frames agree to 1e-3.
    np.testing.assert_allclose(log_mel(samples, SETTINGS), expected[0].numpy(), atol=1e-3)


def test_the_bundled_onnx_export_is_current():
    """The shipped .onnx names the SHA-256 of the shipped .pt; re-export after retraining:
    speech2text export speech2text/pretrained/en-small.onnx --format onnx"""
    assert bundled_onnx_model() is not None


def test_log_probs_match_the_pytorch_model(both):
    torch_side, onnx_side = both
    signals = [load_audio(p) for p in sorted(ASSETS.glob("*.wav"))]
    expected, expected_lengths = torch_side.log_probs(signals)
    got, got_lengths = onnx_side.log_probs(signals)
    assert got_lengths.tolist() == expected_lengths.tolist()
    for i, n in enumerate(got_lengths):
        np.testing.assert_allclose(got[i, :n], expected[i, :n].numpy(), atol=2e-3)


@pytest.mark.parametrize("decoder", ["lm", "greedy", "beam"])
def test_transcripts_equal_the_pytorch_paths_on_real_audio(both, decoder):
    torch_side, onnx_side = both
    paths = [*sorted(ASSETS.glob("*.wav")), *sorted(ASSETS.glob("*.flac")), *sorted(LJSPEECH.glob("*.flac"))]
    signals = [load_audio(p) for p in paths]
    expected = torch_side.transcribe_samples(signals, decoder=decoder)
    got = onnx_side.transcribe_samples(signals, decoder=decoder)
    assert [t.text for t in got] == [t.text for t in expected]
    for a, b in zip(got, expected):
        assert [(w.start_s, w.end_s) for w in a.words] == [(w.start_s, w.end_s) for w in b.words]
        np.testing.assert_allclose([w.confidence for w in a.words], [w.confidence for w in b.words], atol=2e-3)


def test_a_long_file_gives_the_same_transcript(both, tmp_path):
    """Two minutes of LJ Speech, read block by block and cut at pauses: every word and time as with torch."""
    import soundfile

    pause = np.zeros(8000, np.float32)
    pieces = [np.concatenate([load_audio(p), pause]) for p in sorted(LJSPEECH.glob("*.flac"))]
    samples = np.tile(np.concatenate(pieces), 6)[: 16000 * 120]  # the six fixture sentences, over and over
    soundfile.write(tmp_path / "long.flac", samples, 16000)
    torch_side, onnx_side = both
    expected = torch_side.transcribe(tmp_path / "long.flac")
    got = onnx_side.transcribe(tmp_path / "long.flac")
    assert got.duration_s == expected.duration_s == 120.0
    assert got.text == expected.text and len(got.words) > 200
    assert [(w.text, w.start_s, w.end_s) for w in got.words] == [(w.text, w.start_s, w.end_s) for w in expected.words]


def test_an_exported_checkpoint_describes_itself(tmp_path):
    torch_side = Transcriber.from_pretrained()
    export(torch_side.model, tmp_path / "m.onnx", "onnx", onnx_metadata(torch_side.backend))
    exported = load_transcriber(tmp_path / "m.onnx")
    assert exported.runtime == "onnx" and torch_side.runtime == "torch"
    assert exported.labels == torch_side.labels
    assert exported.sample_rate == 16000 and exported.frame_shift_s == pytest.approx(torch_side.frame_shift_s)
    got, expected = (side.transcribe(ASSETS / "weather_in_paris.flac") for side in (exported, torch_side))
    assert [(w.text, w.start_s, w.end_s) for w in got.words] == [(w.text, w.start_s, w.end_s) for w in expected.words]
    assert got.text == expected.text and got.words


def test_an_onnx_file_without_metadata_is_a_clear_error(tmp_path):
    export(Transcriber.from_pretrained().model, tmp_path / "bare.onnx", "onnx")
    with pytest.raises(ValueError, match="without speech2text metadata"):
        OnnxBackend(tmp_path / "bare.onnx")


def test_the_onnx_runtime_never_imports_torch(both):
    code = (
        "import sys; from speech2text.cli import main\n"
        f"code = main(['transcribe', {str(ASSETS / 'weather_in_paris.flac')!r}, '--runtime', 'onnx'])\n"
        "print(code, 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    _, onnx_side = both
    assert result.stdout.splitlines() == [onnx_side.transcribe(ASSETS / "weather_in_paris.flac").text, "0 False"]


@pytest.mark.parametrize("command", ["listen", "evaluate", "lm-tune", "plot"])
def test_every_subcommand_runs_on_onnx_without_torch(tmp_path, command):
    """listen, evaluate, lm tune and transcribe --plot load the model once, through load_transcriber, and take
    the ONNX file of the bundled model when it is current: torch is never imported."""
    manifest = tmp_path / "dev.jsonl"
    audio = ASSETS / "weather_in_paris.flac"
    manifest.write_text(json.dumps({"audio": str(audio), "text": "what is the weather in paris", "duration": 1.6}) + "\n")
    argv = {
        "listen": ["listen", "--input", str(audio), "--fast"],
        "evaluate": ["evaluate", "--manifest", str(manifest), "--decoder", "greedy", "--worst", "0"],
        "lm-tune": ["lm", "tune", "--manifest", str(manifest), "--lm-weights", "1.2", "--word-scores", "-1"],
        "plot": ["transcribe", str(audio), "--plot", str(tmp_path / "align.png")],
    }[command]
    code = f"import sys; from speech2text.cli import main\ncode = main({argv!r})\nprint(code, 'torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert result.stdout.splitlines()[-1] == "0 False", result.stdout + result.stderr
    if command == "plot":
        assert (tmp_path / "align.png").read_bytes()[:4] == b"\x89PNG"


def tiny_onnx(path, metadata: str | None):
    """A small exported model whose speech2text metadata is the string `metadata` (None: none at all)."""
    import onnx

    from speech2text.model import AcousticModel, ModelConfig

    torch.manual_seed(0)
    export(AcousticModel(ModelConfig(hidden_size=16, num_layers=1, conv_channels=16)), path, "onnx")
    if metadata is not None:
        exported = onnx.load(str(path))
        onnx.helper.set_model_props(exported, {"speech2text": metadata})
        onnx.save(exported, str(path))
    return path


def test_onnx_metadata_without_a_key_names_the_file_and_the_key(tmp_path):
    full = {"feature_config": SETTINGS, "labels": list(" 'abcdefghijklmnopqrstuvwxyz"), "frame_shift_factor": 3}
    del full["frame_shift_factor"]
    partial = tiny_onnx(tmp_path / "partial.onnx", json.dumps(full))
    with pytest.raises(CheckpointError) as error:
        OnnxBackend(partial)
    assert str(error.value) == (f"{partial}: its speech2text metadata lacks frame_shift_factor "
                                "(export it again with `speech2text export`)")
    result = subprocess.run([sys.executable, "-m", "speech2text", "transcribe", str(ASSETS / "weather_in_paris.flac"),
                             "--model", str(partial)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"speech2text: error: {error.value}\n"


def test_onnx_metadata_that_is_not_json_names_the_file(tmp_path):
    broken = tiny_onnx(tmp_path / "broken.onnx", "{feature_config: ")
    with pytest.raises(CheckpointError) as error:
        OnnxBackend(broken)
    assert str(error.value) == (f"{broken}: its speech2text metadata is not JSON "
                                "(export it again with `speech2text export`)")
    result = subprocess.run([sys.executable, "-m", "speech2text", "transcribe", str(ASSETS / "weather_in_paris.flac"),
                             "--model", str(broken)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stderr == f"speech2text: error: {error.value}\n"
