"""End-to-end runs of the `speech2text` command on real audio files, with the bundled model.

The command's output is compared with the Python API's (Transcriber.transcribe) and with
itself (one file against a batch, stdout against --output-dir), never with literal text,
so these tests hold for any bundled model; tests/test_quality.py scores its accuracy.
"""

import functools
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from conftest import ASSETS, FSDD
from speech2text import Transcriber
from speech2text.lm import arpa_vocabulary
from speech2text.metrics import error_rates

GOOD = ASSETS / "weather_in_paris.flac"  # a query of the held-out voice
TIMER = ASSETS / "set_a_timer.wav"  # another; "set a timer for ten minutes" is what is said
COMMANDS = "What is your name?\nSet a timer for 10 minutes.\nWhat is the weather in Paris?\n" * 3


def run(*args, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "-m", "speech2text", *map(str, args)], input=stdin, capture_output=True, timeout=300
    )


@pytest.fixture(scope="module")
def api():
    """api(path, decoder="lm"): the text Transcriber.transcribe gives (bundled model, PyTorch runtime), memoized."""
    transcriber = Transcriber.from_pretrained()
    return functools.cache(lambda path, decoder="lm": transcriber.transcribe(path, decoder=decoder).text)


def assert_pulled_towards(phrase: str, plain: str, pulled: str) -> None:
    """`pulled` has fewer word errors against `phrase` than `plain` has, or both are `phrase` already."""
    before, after = (error_rates([phrase], [text])["wer"] for text in (plain, pulled))
    assert after < before or before == after == 0, f"{phrase!r}: {plain!r} -> {pulled!r}"


def test_text_and_json_print_what_the_python_api_returns(api):
    result = run("transcribe", GOOD)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    record = json.loads(run("transcribe", GOOD, "--format", "json").stdout)
    assert result.stdout.decode() == f"{record['text']}\n" == f"{api(GOOD)}\n"
    assert record["text"]  # the held-out query is not heard as silence


@pytest.mark.parametrize("decoder", ["greedy", "beam"])
def test_the_decoders_without_a_language_model_run_on_real_audio(api, decoder):
    """The acoustic model alone spells by ear; the command gives what the API's decoder of that name gives."""
    result = run("transcribe", GOOD, "--decoder", decoder, "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    record = json.loads(result.stdout)
    assert record["text"] == api(GOOD, decoder)
    assert [w["text"] for w in record["words"]] == record["text"].split() and record["words"]


def test_a_missing_file_fails_alone_and_the_batch_goes_on(tmp_path, api):
    result = run("transcribe", tmp_path / "missing.wav", GOOD)
    assert result.returncode == 1
    assert result.stdout.decode() == f"{GOOD}\t{api(GOOD)}\n"
    assert result.stderr.decode() == f"speech2text: error: {tmp_path / 'missing.wav'}: no such file\n"


def test_every_kind_of_bad_file_gives_one_line(tmp_path, speechlike, api):
    (tmp_path / "empty.wav").write_bytes(b"")
    soundfile.write(tmp_path / "zero_length.wav", np.zeros(0, np.float32), 16000)
    (tmp_path / "not_audio.wav").write_text("hello, I am a text file\n" * 40)
    good_bytes = GOOD.read_bytes()
    (tmp_path / "truncated.wav").write_bytes(good_bytes[:40])
    soundfile.write(tmp_path / "nan.wav", np.full(8000, np.nan, np.float32), 16000, subtype="FLOAT")
    soundfile.write(tmp_path / "silent.wav", np.zeros(16000, np.float32), 16000)
    (tmp_path / "folder.wav").mkdir()
    bad = ["missing.wav", "empty.wav", "zero_length.wav", "not_audio.wav", "truncated.wav", "nan.wav", "silent.wav", "folder.wav"]
    result = run("transcribe", *[tmp_path / name for name in bad], GOOD)
    assert result.returncode == 1
    assert result.stdout.decode() == f"{GOOD}\t{api(GOOD)}\n"
    lines = result.stderr.decode().splitlines()
    assert len(lines) == len(bad), lines
    for name, line in zip(bad, lines):
        assert line.startswith(f"speech2text: error: {tmp_path / name}: "), line
    assert "Traceback" not in result.stderr.decode()


def test_json_has_words_with_times_and_confidences(api):
    result = run("transcribe", "--format", "json", GOOD)
    record = json.loads(result.stdout)
    assert record["text"] == api(GOOD)
    assert record["duration_s"] == pytest.approx(soundfile.info(str(GOOD)).duration, abs=1e-3)
    assert [w["text"] for w in record["words"]] == api(GOOD).split() and record["words"]
    starts = [w["start_s"] for w in record["words"]]
    assert starts == sorted(starts)
    for word in record["words"]:
        assert 0 <= word["start_s"] < word["end_s"] <= record["duration_s"] + 0.05
        assert 0 < word["confidence"] <= 1


def test_jsonl_and_stdin_and_output_dir(tmp_path, api):
    result = run("transcribe", "--format", "jsonl", "-", TIMER, stdin=GOOD.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["audio"] for r in records] == ["<stdin>", str(TIMER)]
    assert [r["text"] for r in records] == [api(GOOD), api(TIMER)]  # in input order, stdin read like the file
    out = tmp_path / "out"
    result = run("transcribe", "--output-dir", out, GOOD)
    assert result.returncode == 0 and result.stdout == b""
    assert (out / "weather_in_paris.txt").read_text() == run("transcribe", GOOD).stdout.decode() == f"{api(GOOD)}\n"


def test_bad_model_and_absurd_flags():
    result = run("transcribe", "--model", "no/such/model.pt", GOOD)
    assert result.returncode == 1
    assert result.stderr.decode() == "speech2text: error: no/such/model.pt: no such model file\n"
    assert run("transcribe", "--threads", "0", GOOD).returncode == 2
    assert run("transcribe", "--format", "docx", GOOD).returncode == 2
    assert run("transcribe").returncode == 2


def test_real_recorded_digits_from_the_fsdd_test_split(api):
    """8 kHz recordings of three speakers, on worker processes: one line per file, in order, as the API reads each."""
    files = [FSDD / f"{name}.flac" for name in ("2_jackson_0", "5_nicolas_1", "9_george_2")]
    result = run("transcribe", *files)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines() == [f"{f}\t{api(f)}" for f in files]
    assert all(api(f) for f in files)


def test_help_is_fast_because_torch_is_not_imported():
    code = "import sys, speech2text.cli as c; sys.argv=['speech2text','--help']\ntry: c.main()\nexcept SystemExit: pass\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout.decode()
    assert out.strip().endswith("False")


def test_lm_build_then_decode_with_it(tmp_path, api):
    """A word LM of three commands: only its words come out, and the query moves towards its command."""
    text = tmp_path / "commands.txt"
    text.write_text(COMMANDS)
    held_out = tmp_path / "dev.jsonl"
    held_out.write_text(json.dumps({"audio": "x.wav", "text": "what is the weather in paris", "duration": 1.0}) + "\n")
    result = run("lm", "build", text, "-o", tmp_path / "lm.arpa", "--exclude", held_out)
    assert result.returncode == 0, result.stderr.decode()
    assert "3 overlapping 1 held-out sentences left out" in result.stdout.decode()
    assert "paris" not in (tmp_path / "lm.arpa").read_text()
    result = run("transcribe", TIMER, "--lm", tmp_path / "lm.arpa", "--format", "json")
    assert result.returncode == 0 and result.stderr == b"", result.stderr.decode()
    record = json.loads(result.stdout)
    own = Transcriber.from_pretrained()
    own.load_language_model(tmp_path / "lm.arpa")
    assert record["text"] == own.transcribe(TIMER).text
    assert record["alternatives"][0][0] == record["text"]
    assert [w["text"] for w in record["words"]] == record["text"].split()
    assert set(record["text"].split()) <= set(arpa_vocabulary(tmp_path / "lm.arpa"))
    assert_pulled_towards("set a timer for ten minutes", api(TIMER), record["text"])


def test_the_bundled_language_model_decodes_the_assets(tmp_path, api):
    env_home = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "speech2text", "transcribe", "--decoder", "lm", str(GOOD), str(TIMER)],
        capture_output=True, timeout=300, env={**__import__("os").environ, **env_home},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines() == [f"{GOOD}\t{api(GOOD)}", f"{TIMER}\t{api(TIMER)}"]
    assert list((tmp_path / "cache" / "speech2text").glob("en-small-*.arpa"))  # unpacked once into the cache


def test_lm_and_hotword_user_errors_are_one_line(tmp_path):
    (tmp_path / "junk.arpa").write_text("not a model\n")
    for args in [("--lm", tmp_path / "missing.arpa"), ("--lm", tmp_path / "junk.arpa")]:
        result = run("transcribe", GOOD, *args)
        assert result.returncode == 1
        assert len(result.stderr.decode().splitlines()) == 1 and "Traceback" not in result.stderr.decode()
    assert run("transcribe", GOOD, "--hotword", "lights:loud").returncode == 2
    assert run("transcribe", GOOD, "--hotword", "!!:3").returncode == 2
    assert run("lm", "build", tmp_path / "missing.txt", "-o", tmp_path / "x.arpa").returncode == 1
    assert run("lm", "tune", "--manifest", tmp_path / "missing.jsonl").returncode == 1


def test_plot_draws_one_file(tmp_path, api):
    result = run("transcribe", GOOD, "--plot", tmp_path / "align.png")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == f"{api(GOOD)}\n"
    assert (tmp_path / "align.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run("transcribe", GOOD, GOOD, "--plot", tmp_path / "two.png").returncode == 2


def test_a_hotword_phrase_corrects_a_misrecognized_query(api):
    """Boosting what was said moves the transcript towards it (or keeps it, when the model heard it already)."""
    plain = run("transcribe", TIMER)
    assert plain.returncode == 0 and plain.stdout.decode() == f"{api(TIMER)}\n"
    boosted = run("transcribe", TIMER, "--hotword", "set a timer for ten minutes:10")
    assert boosted.returncode == 0, boosted.stderr.decode()
    assert_pulled_towards("set a timer for ten minutes", plain.stdout.decode().strip(), boosted.stdout.decode().strip())


def test_both_runtimes_give_the_same_json():
    files = [GOOD, TIMER]
    onnx, torch_ = (run("transcribe", *files, "--format", "json", "--runtime", r) for r in ("onnx", "torch"))
    assert onnx.returncode == torch_.returncode == 0, onnx.stderr.decode() + torch_.stderr.decode()
    records = json.loads(onnx.stdout)
    assert [r["text"] for r in records] == [r["text"] for r in json.loads(torch_.stdout)]
    assert [[(w["text"], w["start_s"], w["end_s"]) for w in r["words"]] for r in records] == [
        [(w["text"], w["start_s"], w["end_s"]) for w in r["words"]] for r in json.loads(torch_.stdout)
    ]


def test_runtime_user_errors_are_one_line():
    result = run("transcribe", GOOD, "--runtime", "onnx", "--quantize", "int8")
    assert result.returncode == 1
    assert result.stderr.decode().count("\n") == 1 and "quantize needs the PyTorch runtime" in result.stderr.decode()
    result = run("transcribe", GOOD, "--runtime", "onnx", "--model", "missing.onnx")
    assert result.returncode == 1 and result.stderr.decode().count("\n") == 1, result.stderr.decode()


def test_jobs_change_nothing_but_speed(tmp_path):
    files = [GOOD, TIMER, tmp_path / "missing.wav", ASSETS / "what_is_your_name.wav"]
    one, two = (run("transcribe", *files, "--format", "jsonl", "--jobs", jobs) for jobs in ("1", "2"))
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout and one.stdout.decode().count("\n") == 3
    assert one.stderr == two.stderr == f"speech2text: error: {tmp_path / 'missing.wav'}: no such file\n".encode()


def test_a_character_lm_from_lm_build_decodes_without_a_lexicon(tmp_path):
    text = tmp_path / "commands.txt"
    text.write_text(COMMANDS)
    result = run("lm", "build", text, "-o", tmp_path / "chars.arpa", "--units", "chars")
    assert result.returncode == 0, result.stderr.decode()
    # 15 letters, the word separator | and <s>, </s>, <unk>; order 6 by default for characters
    assert ": 19 1-grams, 50 2-grams," in result.stdout.decode() and " 6-grams" in result.stdout.decode()
    plain = run("transcribe", GOOD, "--decoder", "greedy")  # the acoustics alone, spelled by ear
    result = run("transcribe", GOOD, "--lm", tmp_path / "chars.arpa", "--format", "json")
    assert result.returncode == 0 and result.stderr == b"", result.stderr.decode()
    record = json.loads(result.stdout)
    own = Transcriber.from_pretrained()
    own.load_language_model(tmp_path / "chars.arpa")
    assert record["text"] == own.transcribe(GOOD).text
    assert [w["text"] for w in record["words"]] == record["text"].split()
    assert_pulled_towards("what is the weather in paris", plain.stdout.decode().strip(), record["text"])
    result = run("transcribe", GOOD, "--lm", tmp_path / "chars.arpa", "--hotword", "paris")
    assert result.returncode == 1 and result.stderr.decode().count("\n") == 1 and "character LM" in result.stderr.decode()


def test_an_order_the_search_cannot_read_is_refused(tmp_path):
    text = tmp_path / "commands.txt"
    text.write_text("What is your name?\n")
    result = run("lm", "build", text, "-o", tmp_path / "chars.arpa", "--units", "chars", "--order", "8")
    assert result.returncode == 1 and not (tmp_path / "chars.arpa").exists()
    assert result.stderr.decode() == "speech2text: error: --order 8: the beam search's KenLM reads at most 6-grams\n"


def test_version_is_the_installed_package_version():
    from importlib.metadata import version

    import speech2text

    result = run("--version")
    assert result.returncode == 0 and result.stderr == b""
    assert result.stdout.decode() == f"speech2text {version('speech2text')}\n"
    assert speech2text.__version__ == version("speech2text")
