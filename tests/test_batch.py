"""Many files on worker processes: the same transcripts, in the same order, as one by one in this process."""

import pytest

from conftest import ASSETS, FSDD, LJSPEECH
from speech2text.batch import LoadError, TranscriberSpec, transcribe_files, transcribe_one
from speech2text.decoding import DecodingOptions

FILES = [
    *sorted(ASSETS.glob("*.wav")),
    ASSETS / "weather_in_paris.flac",
    *[FSDD / f"{name}.flac" for name in ("0_lucas_2", "5_nicolas_1", "9_george_2")],  # 8 kHz
    *sorted(LJSPEECH.glob("*.flac"))[:3],
]


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_workers_equal_one_by_one(tmp_path, runtime):
    missing = tmp_path / "missing.wav"
    paths = [*FILES[:3], missing, *FILES[3:]]
    spec = TranscriberSpec(runtime=runtime, decoding=DecodingOptions(beam_size=32))
    transcriber = spec.load()
    expected = [transcribe_one(transcriber, spec, path) for path in paths]
    got = list(transcribe_files(paths, spec, jobs=2))
    assert got == expected
    assert got[3] == "no such file"
    assert all(t.text for t in got[:3] + got[4:])  # every file is heard, so the equality says something


def test_a_model_that_cannot_load_is_one_error_not_one_per_file(tmp_path):
    spec = TranscriberSpec(runtime="onnx", decoding=DecodingOptions(lm=str(tmp_path / "missing.arpa")))
    with pytest.raises(LoadError, match="no such language model file"):
        list(transcribe_files(FILES[:4], spec, jobs=2))
