"""The bad-input battery (issue 19): each case a user can hit, with one clear line and nothing lost.

Rules under test: a command never writes over its own input; output names never collide; output paths are
checked before the work starts; numeric flags are finite and bounded; a bad manifest row is skipped, named and
counted, and the run goes on.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speech2text.files import write_text_atomically

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


@pytest.mark.parametrize("share", ["1.5", "-0.1", "nan"])
def test_synthesize_refuses_a_weak_form_share_outside_0_to_1(share):
    result = run("synthesize", "--queries", "--weak-forms", share, "--out", "unused", timeout=60)
    assert result.returncode == 2 and "--weak-forms" in result.stderr and "Traceback" not in result.stderr


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
    listened = run("listen", "--input", ASSETS / name, "--fast")
    assert listened.returncode == 0 and listened.stdout == f"{finals[0]}\n", listened.stderr


def transcript_of(path) -> str:
    result = run("transcribe", path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_output_names_never_collide(tmp_path):
    """Three inputs with the stem x: each transcript keeps its own file, under its folders, suffix kept."""
    sources = {"ca/x.wav": "set_a_timer.wav", "cb/x.wav": "what_is_your_name.wav", "ca/x.flac": "weather_in_paris.flac"}
    for target, asset in sources.items():
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ASSETS / asset, tmp_path / target)
    out = tmp_path / "D"
    result = run("transcribe", "--output-dir", out, *(tmp_path / t for t in sources), "--jobs", "1")
    assert result.returncode == 0, result.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    assert written == ["ca/x.flac.txt", "ca/x.wav.txt", "cb/x.wav.txt"]
    for target, asset in sources.items():
        assert (out / f"{target}.txt").read_text().strip() == transcript_of(ASSETS / asset)


def test_a_transcript_already_there_is_kept_unless_overwrite(tmp_path):
    """Two runs (or two processes) sharing --output-dir with inputs of one name: the second is refused before
    any work and the first transcript stays; --overwrite replaces it."""
    for folder, asset in [("ca", "set_a_timer.wav"), ("cb", "what_is_your_name.wav")]:
        (tmp_path / folder).mkdir()
        shutil.copy(ASSETS / asset, tmp_path / folder / "x.wav")
    out = tmp_path / "D"
    assert run("transcribe", "--output-dir", out, tmp_path / "ca/x.wav").returncode == 0
    first = (out / "x.txt").read_text()
    assert first.strip() == transcript_of(ASSETS / "set_a_timer.wav")
    result = run("transcribe", "--output-dir", out, tmp_path / "cb/x.wav")
    assert result.returncode == 1 and result.stdout == ""
    assert one_error_line(result) == (f"speech2text: error: {out / 'x.txt'}: exists; give --overwrite to replace it, "
                                      "or another --output-dir")
    assert (out / "x.txt").read_text() == first
    assert run("transcribe", "--output-dir", out, tmp_path / "cb/x.wav", "--overwrite").returncode == 0
    assert (out / "x.txt").read_text().strip() == transcript_of(ASSETS / "what_is_your_name.wav")


def test_an_exclusive_write_loses_to_a_file_written_meanwhile(tmp_path):
    """What a process gets when another one wrote the name between its check and its write: the error, and the
    other's file whole; no temporary left behind."""
    target = tmp_path / "x.txt"
    write_text_atomically(target, "first\n", replace=False)
    with pytest.raises(FileExistsError):
        write_text_atomically(target, "second\n", replace=False)
    assert target.read_text() == "first\n" and sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]
    write_text_atomically(target, "second\n")
    assert target.read_text() == "second\n"


def test_an_exclusive_write_without_hard_links_still_keeps_the_file_there(tmp_path, monkeypatch):
    """On a filesystem that refuses hard links (FAT, some network mounts) the write checks, then renames."""
    def no_links(*_):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("os.link", no_links)
    target = tmp_path / "x.txt"
    write_text_atomically(target, "first\n", replace=False)
    with pytest.raises(FileExistsError):
        write_text_atomically(target, "second\n", replace=False)
    assert target.read_text() == "first\n" and sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]


def test_unwritable_outputs_fail_before_any_work_naming_the_output(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    audio = ASSETS / "weather_in_paris.flac"
    for flags, named in [(["--output-dir", blocker / "out"], blocker / "out"), (["--plot", blocker / "p.png"], blocker / "p.png")]:
        result = run("transcribe", audio, *flags)
        assert result.returncode == 1 and result.stdout == ""
        line = one_error_line(result)
        assert line.startswith(f"speech2text: error: {named}: ") and str(audio) not in line
    result = run("export", "--format", "torchscript", blocker / "model.ts")
    assert result.returncode == 1 and str(blocker / "model.ts") in one_error_line(result)
    result = run("lm", "build", ASSETS / "../README.md", "-o", blocker / "lm.arpa")
    assert result.returncode == 1 and str(blocker / "lm.arpa") in one_error_line(result)


def test_an_empty_words_file_is_refused(tmp_path):
    (tmp_path / "empty.txt").write_text("\n")
    result = run("transcribe", ASSETS / "weather_in_paris.flac", "--words", tmp_path / "empty.txt")
    assert result.returncode == 2 and "no words" in one_error_line(result)


def test_lm_build_leaves_out_binary_files_and_builds_from_the_rest(tmp_path):
    junk = tmp_path / "random.bin"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    good = tmp_path / "good.txt"
    good.write_text("turn on the lights\nturn off the lights\n")
    alone = run("lm", "build", junk, "-o", tmp_path / "junk.arpa")
    assert alone.returncode == 1 and not (tmp_path / "junk.arpa").exists()
    assert "not a text file" in alone.stderr and "Traceback" not in alone.stderr
    both = run("lm", "build", junk, good, "-o", tmp_path / "lm.arpa")
    assert both.returncode == 1 and f"{junk}: not a text file" in one_error_line(both)
    assert "lights" in (tmp_path / "lm.arpa").read_text()


def _digit_rows() -> list[dict]:
    rows = []
    for path in sorted((ROOT / "tests" / "fixtures" / "fsdd").glob("*.flac"))[:6]:
        info = soundfile.info(str(path))
        digit = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][int(path.name[0])]
        rows.append({"audio": str(path), "text": digit, "duration": info.frames / info.samplerate})
    return rows


def _manifest_with_bad_rows(tmp_path) -> Path:
    """Six good rows, a missing file, a NaN file and a line that is not JSON."""
    nan = tmp_path / "nan.wav"
    soundfile.write(nan, np.full(8000, np.nan, np.float32), 16000, subtype="FLOAT")
    rows = _digit_rows() + [{"audio": str(tmp_path / "missing.wav"), "text": "one", "duration": 1.0},
                            {"audio": str(nan), "text": "two", "duration": 0.5}]
    manifest = tmp_path / "dev.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows[:3]) + "{not json\n"
                        + "".join(json.dumps(r) + "\n" for r in rows[3:]))
    return manifest


def test_evaluate_and_lm_tune_skip_name_and_count_bad_rows(tmp_path):
    manifest = _manifest_with_bad_rows(tmp_path)
    result = run("evaluate", "--manifest", manifest, "--decoder", "greedy", "--worst", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("utterances 6 ") and "skipped 3" in result.stdout
    assert f"{manifest}:4" in result.stderr and "missing.wav: no such file" in result.stderr
    assert "nan.wav: the audio contains NaN" in result.stderr
    assert "skipped 3 rows: " in result.stderr and "Traceback" not in result.stderr
    tuned = run("lm", "tune", "--manifest", manifest, "--lm-weights", "1.2", "--word-scores", "-1,0")
    assert tuned.returncode == 0, tuned.stderr
    assert tuned.stdout.count("| 1.2 |") == 2 and "skipped 3 rows: " in tuned.stderr


def test_a_binary_manifest_is_one_line(tmp_path):
    manifest = tmp_path / "dev.jsonl"
    manifest.write_bytes(bytes(range(256)) * 10)
    for command in (["evaluate", "--manifest", manifest], ["lm", "tune", "--manifest", manifest]):
        result = run(*command)
        assert result.returncode == 1 and "not a JSON-lines manifest (binary data)" in one_error_line(result)


def test_training_skips_names_and_counts_bad_rows_and_finishes(tmp_path):
    from speech2text.model import ModelConfig
    from speech2text.train import TrainConfig, train

    manifest = _manifest_with_bad_rows(tmp_path)
    with open(manifest, "a") as f:
        f.write(json.dumps({"audio": _digit_rows()[0]["audio"], "text": "?!", "duration": 0.5}) + "\n")
        long_text = "this sentence is far too long for half a second of audio"
        f.write(json.dumps({"audio": _digit_rows()[1]["audio"], "text": long_text, "duration": 0.5}) + "\n")
    out = tmp_path / "run"
    config = TrainConfig(train_manifests=(str(manifest),), out_dir=str(out), max_steps=6, epochs=100,
                         model=ModelConfig(hidden_size=32, num_layers=1, conv_channels=32), augment=None,
                         max_batch_s=3.0, log_every_steps=1, checkpoint_every_steps=3, progress=False, threads=1,
                         num_workers=0, warmup_steps=1)
    train(config)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["kind"] == "summary" and records[-1]["step"] == 6
    assert records[-1]["skipped_rows"] == {"bad manifest line": 1, "no such file": 1, "empty text": 1,
                                           "audio too short for its text": 1,
                                           "the audio contains NaN or infinite samples": 1}


def test_a_resumed_run_drops_what_was_logged_after_its_checkpoint_and_stale_temporaries(tmp_path, fsdd_manifest):
    from speech2text.model import ModelConfig
    from speech2text.train import TrainConfig, train

    out = tmp_path / "run"
    options = dict(train_manifests=(str(fsdd_manifest),), out_dir=str(out), epochs=100, augment=None,
                   model=ModelConfig(hidden_size=32, num_layers=1, conv_channels=32), max_batch_s=100.0,
                   log_every_steps=1, checkpoint_every_steps=2, progress=False, threads=1, num_workers=0,
                   warmup_steps=1)
    train(TrainConfig(max_steps=4, **options))
    with open(out / "metrics.jsonl", "a") as f:  # what a run killed after step 4's checkpoint had logged
        f.write(json.dumps({"kind": "train", "step": 5, "loss": 1.0}) + "\n")
    (out / ".last.pt.tmp12345").write_bytes(b"half a checkpoint")
    train(TrainConfig(max_steps=8, **options))
    steps = [r["step"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "train"]
    assert steps == list(range(1, 9))
    assert not list(out.glob(".*.tmp*"))


def test_odd_audio_is_named_and_never_silently_half_read(tmp_path):
    samples = (0.1 * np.random.default_rng(1).standard_normal(16000)).astype(np.float32)
    soundfile.write(tmp_path / "full.wav", samples, 16000, subtype="PCM_16")
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "truncated.wav").write_bytes(data[: len(data) // 2])
    result = run("transcribe", tmp_path / "truncated.wav")
    kept = len(data) // 2 - 44  # a 44-byte header, then the data chunk
    assert result.returncode == 0 and f"truncated WAV ({kept:,} of 32,000 data bytes)" in one_error_line(result)
    soundfile.write(tmp_path / "one.wav", samples[:1], 16000)
    result = run("transcribe", tmp_path / "one.wav")
    assert result.returncode == 1 and "too short to hold speech (1 sample at 16000 Hz)" in one_error_line(result)


def test_a_checkpoint_copy_on_the_onnx_runtime_is_named_as_itself(tmp_path):
    copy = tmp_path / "copy.pt"
    shutil.copy(BUNDLED, copy)
    result = run("transcribe", "--model", copy, "--runtime", "onnx", ASSETS / "weather_in_paris.flac")
    assert result.returncode == 1
    line = one_error_line(result)
    assert f"{copy}: a checkpoint, not an ONNX file" in line and "bundled" not in line
