"""The second bad-input and abuse battery (issue 40), commands side: nothing overwritten, nothing exhausted,
nothing silently wrong, one line for each user error. The server's cases are in tests/test_server_abuse.py.

Rules under test: no output resolves to an input (symlinks and hard links included); audio is checked from its
header before decoding (rate, too short, --max-duration-s); stdin, pipes and devices are read bounded in size and
time; every text passes a normalizer that cannot raise; a manifest row without a duration reads the file's.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile
from conftest import ASSETS, FIXTURES, ROOT

from speech2text.text import normalize_text

WEATHER = ASSETS / "weather_in_paris.flac"
HUGE_NUMBER = "1" * 400 + ".5"  # past num2words' largest name: it raised OverflowError


def run(*args, timeout=120, **options):
    return subprocess.run([sys.executable, "-m", "speech2text", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, **options)  # fmt: skip


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def transcript_of(path) -> str:
    result = run("transcribe", path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def digit_rows(count: int = 4) -> list[dict]:
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    paths = sorted((FIXTURES / "fsdd").glob("*.flac"))[:count]
    return [{"audio": str(p), "text": names[int(p.name[0])], "duration": soundfile.info(str(p)).duration} for p in paths]


def write_manifest(path, rows) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


# 1-3: commands that wrote over their own input


def test_evaluate_never_writes_its_hypotheses_over_a_manifest(tmp_path):
    manifest = tmp_path / "m.jsonl"
    write_manifest(manifest, digit_rows())
    before = manifest.read_bytes()
    (tmp_path / "symlink.jsonl").symlink_to(manifest)
    os.link(manifest, tmp_path / "hardlink.jsonl")
    for hypotheses in (manifest, tmp_path / "symlink.jsonl", tmp_path / "hardlink.jsonl"):
        result = run("evaluate", "--manifest", manifest, "--hypotheses", hypotheses, "--decoder", "greedy")
        assert result.returncode == 1 and result.stdout == ""
        assert one_error_line(result) == (f"speech2text: error: {hypotheses}: this is also an input; "
                                          "write the output somewhere else")
        assert manifest.read_bytes() == before


def test_synthesize_never_writes_over_its_text_or_grammar(tmp_path):
    manifest, summary = tmp_path / "train.jsonl", tmp_path / "summary.json"
    manifest.write_text("turn on the kitchen lights\n")
    summary.write_text("turn (on | off) the lights\n")
    for flags, victim in ((["--text", manifest], manifest), (["--grammar", summary], summary)):
        before = victim.read_bytes()
        result = run("synthesize", *flags, "--out", tmp_path, "--engines", "espeak-ng", timeout=60)
        assert result.returncode == 1 and "this is also an input" in one_error_line(result)
        assert victim.read_bytes() == before and not (tmp_path / "audio").exists()


def test_train_never_writes_its_run_files_over_a_manifest(tmp_path):
    manifest = tmp_path / "config.json"
    write_manifest(manifest, digit_rows())
    before = manifest.read_bytes()
    result = run("train", "--train", manifest, "--out", tmp_path, "--max-steps", "1", "--threads", "1")
    assert result.returncode == 1 and result.stdout == ""
    assert one_error_line(result) == f"speech2text: error: {manifest}: this is also an input; write the output somewhere else"
    assert manifest.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


# 4, 10: audio checked from its header before decoding


def test_audio_whose_header_says_1_hz_is_refused_before_decoding(tmp_path):
    lying = tmp_path / "one_hz.wav"
    soundfile.write(lying, np.zeros(20_000, np.int16), 1, subtype="PCM_16")  # 40 KB that says 5.5 hours
    started = time.monotonic()
    result = run("transcribe", lying)
    assert result.returncode == 1 and time.monotonic() - started < 60
    assert one_error_line(result) == (f"speech2text: error: {lying}: a sample rate of 1 Hz is not speech audio "
                                      "(from 8000 to 192000 Hz)")


def test_audio_longer_than_max_duration_is_refused_before_decoding(tmp_path):
    hour = tmp_path / "hour.flac"
    with soundfile.SoundFile(hour, "w", 8000, 1, format="FLAC") as f:  # an hour of silence, about 90 KB
        for _ in range(60):
            f.write(np.zeros(8000 * 60, np.int16))
    started = time.monotonic()
    result = run("transcribe", hour, "--max-duration-s", "600")
    assert result.returncode == 1 and time.monotonic() - started < 60
    assert one_error_line(result) == (f"speech2text: error: {hour}: 3,600 s long, over the limit of 600 s "
                                      "(--max-duration-s)")
    assert "before decoding (default: 14400; 0: no limit)" in " ".join(run("transcribe", "--help").stdout.split())


def test_audio_too_short_to_hold_speech_is_an_error(tmp_path):
    short = tmp_path / "ten.wav"
    soundfile.write(short, (0.5 * np.random.default_rng(0).standard_normal(10)).astype(np.float32), 16000)
    for source in ([short], ["-"]):
        with open(short, "rb") as stdin:
            result = run("transcribe", *source, stdin=stdin)
        assert result.returncode == 1 and result.stdout == ""
        assert one_error_line(result).endswith(": too short to hold speech (10 samples at 16000 Hz)")


# 7, 15: stdin, pipes and devices


def test_endless_stdin_and_devices_are_read_bounded(tmp_path):
    with open("/dev/zero", "rb") as zeros:
        result = run("transcribe", "-", stdin=zeros, timeout=60)
    assert result.returncode == 1
    assert one_error_line(result) == "speech2text: error: <stdin>: more than 512 MiB from a stream; give a file instead"
    good = tmp_path / "good.txt"
    good.write_text("turn on the lights\n")
    result = run("lm", "build", "/dev/zero", good, "-o", tmp_path / "lm.arpa", timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == "speech2text: error: /dev/zero: more than 512 MiB from a stream; give a file instead; left out"
    assert "lights" in (tmp_path / "lm.arpa").read_text()


def test_a_named_pipe_is_read_as_its_file_and_one_with_no_writer_is_given_up(tmp_path):
    fifo = tmp_path / "audio.fifo"
    os.mkfifo(fifo)

    def write_into_the_pipe():
        with open(fifo, "wb") as pipe:
            pipe.write(WEATHER.read_bytes())

    writer = threading.Thread(target=write_into_the_pipe)
    writer.start()
    result = run("transcribe", fifo)
    writer.join(10)
    assert result.returncode == 0, result.stderr
    expected = transcript_of(WEATHER)
    assert result.stdout == expected
    process_substitution = subprocess.run(
        ["bash", "-c", f'"$0" -m speech2text transcribe <(cat "$1")', sys.executable, str(WEATHER)],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert process_substitution.returncode == 0 and process_substitution.stdout == expected, process_substitution.stderr
    started = time.monotonic()
    result = run("transcribe", fifo, timeout=120)
    assert result.returncode == 1 and time.monotonic() - started < 60
    assert one_error_line(result) == (f"speech2text: error: {fifo}: nothing came through this pipe for 10 s "
                                      "(does anything write to it?)")


# 9: file names that forge lines


def test_file_names_cannot_forge_lines_of_txt_output(tmp_path):
    forged = tmp_path / "x.wav\tunlock the front door\nz.wav"
    shutil.copy(ASSETS / "set_a_timer.wav", forged)
    result = run("transcribe", forged, WEATHER, "--jobs", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.count("\t") == 1 for line in lines)
    assert lines[0] == f"{tmp_path}/x.wav\\tunlock the front door\\nz.wav\t{transcript_of(ASSETS / 'set_a_timer.wav').strip()}"


# 12: the normalizer cannot raise


@pytest.mark.parametrize("text", [HUGE_NUMBER, "1" * 400, "$" + "9" * 400, "9" * 400 + "th", "1" * 5000,
                                  "10:" + "9" * 400])
def test_the_normalizer_spells_numbers_past_its_names_digit_by_digit(text):
    words = normalize_text(text).split()
    assert set(words) <= {"one", "nine", "point", "five", "ten", "dollar", "dollars", "cents", "ninety"}
    assert len(words) >= 400


def test_the_normalizer_returns_spoken_text_for_any_string():
    rng = random.Random(40)
    alphabet = "0123456789.,:$£€%&+@=-'`’ st nd rd th abcXYZ é ß 中 \t\n\0\x7f"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        text = text.replace("5", "5" * rng.randint(1, 320))  # now and then a number past num2words' names
        normalized = normalize_text(text)
        assert set(normalized) <= set("abcdefghijklmnopqrstuvwxyz' ") and "  " not in normalized


def test_a_huge_number_in_a_manifest_or_an_lm_text_ends_nothing(tmp_path):
    manifest = tmp_path / "m.jsonl"
    rows = digit_rows()
    write_manifest(manifest, rows[:2] + [{**rows[2], "text": HUGE_NUMBER}] + rows[3:])
    result = run("evaluate", "--manifest", manifest, "--decoder", "greedy", "--worst", "0")
    assert result.returncode == 0 and result.stdout.startswith("utterances 4 "), result.stderr
    text = tmp_path / "text.txt"
    text.write_text(f"the code is {HUGE_NUMBER}\nturn on the lights\n")
    result = run("lm", "build", text, "-o", tmp_path / "lm.arpa")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr


# 13, 16: training and manifests


def test_train_on_audio_that_is_all_missing_says_so_in_one_line(tmp_path):
    manifest = tmp_path / "train.jsonl"
    write_manifest(manifest, [{**row, "audio": str(tmp_path / f"missing{i}.flac")} for i, row in enumerate(digit_rows())])
    result = run("train", "--train", manifest, "--out", tmp_path / "run", "--max-steps", "2", "--threads", "1",
                 "--workers", "0")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.fullmatch(rf"speech2text: error: no training row's audio could be read \(for example "
                        rf"{re.escape(str(tmp_path))}/missing\d\.flac: no such file\)", result.stderr.strip().splitlines()[-1])


def test_a_hand_written_manifest_without_durations_is_read_and_bad_lines_say_why(tmp_path):
    manifest = tmp_path / "hand.jsonl"
    rows = [{"audio": row["audio"], "text": row["text"]} for row in digit_rows()]
    write_manifest(manifest, rows + [{"audio": rows[0]["audio"]}, {"audio": str(tmp_path / "gone.flac"), "text": "one"}])
    result = run("evaluate", "--manifest", manifest, "--decoder", "greedy", "--worst", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("utterances 4 ") and "skipped 2" in result.stdout
    assert f'skipped {manifest}:5: bad manifest line (no "text" field)' in result.stderr
    assert f"skipped {tmp_path / 'gone.flac'}: no such file" in result.stderr
