"""Many files on worker processes: the same transcripts, in the same order, as one by one in this process."""

import pytest

from conftest import ASSETS, SHARED
from speech2text.batch import LoadError, TranscriberSpec, transcribe_files, transcribe_one

FILES = [
    *sorted(ASSETS.glob("*.wav")),
    ASSETS / "weather_in_paris.flac",
    *sorted((SHARED / "fsdd" / "recordings").glob("*_jackson_4*.flac"))[:3],
    *sorted((SHARED / "ljspeech-part" / "wavs").glob("*.flac"))[:3],
]


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_workers_equal_one_by_one(tmp_path, runtime):
    missing = tmp_path / "missing.wav"
    paths = [*FILES[:3], missing, *FILES[3:]]
    spec = TranscriberSpec(runtime=runtime, beam_size=32)
    transcriber = spec.load()
    expected = [transcribe_one(transcriber, spec, path) for path in paths]
    got = list(transcribe_files(paths, spec, jobs=2))
    assert got == expected
    assert got[3] == "no such file"
    # the bundled model's real output on the held-out voice, its errors included
    assert [t.text for t in got[:3]] == ["set a timer for ten mines", "what is name", "what is the weather in paris"]


def test_a_model_that_cannot_load_is_one_error_not_one_per_file(tmp_path):
    spec = TranscriberSpec(runtime="onnx", lm_options={"path": tmp_path / "missing.arpa"})
    with pytest.raises(LoadError, match="no such language model file"):
        list(transcribe_files(FILES[:4], spec, jobs=2))
