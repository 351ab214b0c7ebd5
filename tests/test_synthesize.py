"""The synthesis engine: grammar expansion, corpus plans, the realism pass, and real engine runs."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speech2text.grammar import Grammar, GrammarError, assistant_sentences
from speech2text.synthesis import (
    REALISM_PAD_S,
    SAMPLE_RATE,
    SECONDS_PER_CHAR,
    apply_realism,
    available_engines,
    plan_corpus,
    synthesize_unit,
)
from speech2text.text import LETTERS

ROOT = Path(__file__).resolve().parents[1]


def run(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "speech2text", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_grammar_expands_rules_choices_and_options_exactly():
    grammar = Grammar("$room = kitchen | living room\n[please] turn (on | off) the $room lights\nstop")
    assert sorted(grammar.sentences()) == sorted(
        [
            "please turn on the kitchen lights",
            "please turn off the kitchen lights",
            "please turn on the living room lights",
            "please turn off the living room lights",
            "turn on the kitchen lights",
            "turn off the kitchen lights",
            "turn on the living room lights",
            "turn off the living room lights",
            "stop",
        ]
    )


def test_grammar_sentences_pass_through_the_normalizer():
    assert Grammar("set a timer for (5 | 10) minutes at 7:30 on the 3rd").sentences() == [
        "set a timer for five minutes at seven thirty on the third",
        "set a timer for ten minutes at seven thirty on the third",
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("turn on the $lamp", "$lamp is used but never defined"),
        ("$a = x $a\nsay $a", "$a refers to itself"),
        ("turn (on | off the lights", "expected ')'"),
        ("$a = x | y", "no sentence templates"),
    ],
)
def test_grammar_errors_name_the_problem(text, message):
    with pytest.raises(GrammarError, match=message.replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")):
        Grammar(text)


def test_big_templates_are_sampled_and_the_assistant_grammar_is_large():
    grammar = Grammar(f"$n = {' | '.join(map(str, range(1000)))}\nadd $n and $n")
    assert grammar.count(grammar.templates[0]) == 1_000_000
    sentences = grammar.sentences(per_template=500, seed=1)
    assert 450 <= len(sentences) <= 500 and all(s.startswith("add ") for s in sentences)
    queries = assistant_sentences()
    assert len(queries) > 10_000
    assert all(set(q) <= set(LETTERS + " ") for q in queries)
    assert "what is your name" in queries


def test_plan_keeps_held_out_voices_and_sentences_apart(tmp_path):
    sentences = [f"sentence number {i}" for i in range(300)]
    engines = ["espeak-ng", "flite", "festival"]
    options = dict(
        copies=2, holdout_voices={"slt", "ked"}, heldout_sentences=40, dev_sentences=30, engines=engines, seed=3
    )
    plan = plan_corpus(sentences, tmp_path, **options)
    assert plan == plan_corpus(sentences, tmp_path, **options)
    train, dev, held = plan["train"], plan["dev"], plan["heldout"]
    assert len(held) == 40 and len(dev) == 30 and len(train) == 2 * 230
    assert not {job["voice"]["speaker"] for job in dev} & {"slt", "ked"}
    assert not {job["text"] for job in train} & {job["text"] for job in dev}
    assert not {job["text"] for job in dev} & {job["text"] for job in held}
    assert {job["voice"]["speaker"] for job in held} == {"slt", "ked"}
    assert not {job["voice"]["speaker"] for job in train} & {"slt", "ked"}
    assert not {job["text"] for job in train} & {job["text"] for job in held}
    assert {job["voice"]["engine"] for job in train} == set(engines)


def test_plan_by_hours_reaches_the_target(tmp_path):
    plan = plan_corpus(["a short sentence to say"] * 3 + ["another one"], tmp_path, hours=0.5, engines=["espeak-ng"])
    planned_s = sum(SECONDS_PER_CHAR * len(job["text"]) + REALISM_PAD_S for job in plan["train"])
    assert 1800 <= planned_s < 1800 + 3



def test_plan_from_hours_leaves_out_what_an_earlier_release_heard(tmp_path):
    sentences = [f"sentence number {i} to say" for i in range(400)]
    options = dict(engines=["espeak-ng"], dev_sentences=20, seed=5)
    whole = plan_corpus(sentences, tmp_path, hours=0.5, **options)
    later = plan_corpus(sentences, tmp_path, hours=0.5, from_hours=0.2, **options)
    assert later["dev"] == whole["dev"]
    kept = [job for job in whole["train"] if job["audio"] in {later_job["audio"] for later_job in later["train"]}]
    assert later["train"] == kept == whole["train"][len(whole["train"]) - len(later["train"]) :]
    skipped_s = sum(SECONDS_PER_CHAR * len(job["text"]) + REALISM_PAD_S for job in whole["train"][: -len(kept)])
    assert 0.2 * 3600 <= skipped_s < 0.2 * 3600 + 3

def _realism(**changes) -> dict:
    base = {
        "tempo": 1.0,
        "pitch_cents": 0,
        "rir": None,
        "snr_db": None,
        "noise": "white",
        "channel": "clean",
        "gain_db": 0.0,
        "lead_s": 0.5,
        "trail_s": 0.25,
        "seed": 7,
    }
    return base | changes


def _tone(seconds=1.0, hz=440.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE)).astype(np.float32)


def test_realism_pads_silence_and_mixes_noise_at_the_requested_snr():
    clean = _tone()
    out = apply_realism(clean, _realism(snr_db=20.0))
    assert len(out) == len(clean) + int(0.5 * SAMPLE_RATE) + int(0.25 * SAMPLE_RATE)
    assert np.abs(out).max() == pytest.approx(0.95, abs=1e-3)
    lead = out[: int(0.5 * SAMPLE_RATE)]  # noise alone
    speech = out[int(0.5 * SAMPLE_RATE) : int(1.5 * SAMPLE_RATE)]
    measured_snr = 10 * np.log10((np.mean(speech**2) - np.mean(lead**2)) / np.mean(lead**2))
    assert measured_snr == pytest.approx(20.0, abs=0.5)


def test_telephone_channel_cuts_what_an_8khz_line_cannot_carry():
    rng = np.random.default_rng(0)
    clean = (0.1 * rng.standard_normal(SAMPLE_RATE)).astype(np.float32)
    out = apply_realism(clean, _realism(channel="telephone", lead_s=0.0, trail_s=0.0))
    spectrum = np.abs(np.fft.rfft(out)) ** 2
    freqs = np.fft.rfftfreq(len(out), 1 / SAMPLE_RATE)
    in_band = spectrum[(freqs > 500) & (freqs < 3000)].mean()
    assert spectrum[freqs > 4500].mean() < 1e-3 * in_band
    assert spectrum[freqs < 100].mean() < 0.05 * in_band


def test_reverb_codec_and_gain_keep_the_speech_where_it_was():
    clean = _tone(hz=300.0)
    for changes in ({"rir": 5}, {"channel": "mp3"}, {"channel": "ogg"}, {"gain_db": -12.0}):
        out = apply_realism(clean, _realism(**changes))
        speech = out[int(0.5 * SAMPLE_RATE) : int(1.5 * SAMPLE_RATE)]
        silence = out[: int(0.4 * SAMPLE_RATE)]
        assert np.mean(speech**2) > 100 * np.mean(silence**2), changes
    quiet = apply_realism(clean, _realism(gain_db=-12.0))
    assert np.abs(quiet).max() == pytest.approx(0.95 * 10 ** (-12 / 20), abs=1e-3)


def test_every_engine_is_installed():
    """.ci/run installs the programs (apt) and `make` the neural voices ([voices] extra); the tests need
    every engine, and never skip."""
    assert available_engines() == ["espeak-ng", "flite", "festival", "piper", "kokoro"]


def test_failed_and_implausible_syntheses_are_counted_not_fatal(tmp_path):
    def job(name, text, voice="kal_diphone", engine="festival"):
        return {
            "text": text,
            "voice": {"engine": engine, "voice": voice, "speaker": "kal", "stretch": 1.0},
            "realism": {},
            "audio": str(tmp_path / f"{name}.flac"),
        }

    # A voice festival does not know stops its batch script; the jobs after it still get spoken.
    results = synthesize_unit([job("a", "good morning"), job("b", "good night", voice="nosuch"), job("c", "thank you")])
    assert [r.get("failed") for r in results] == [None, "no audio", None]
    assert [Path(results[i]["audio"]).name for i in (0, 2)] == ["a.flac", "c.flac"]
    # Far more characters than the engine says in its half second: flagged by the duration check.
    [result] = synthesize_unit([job("d", "hi" + " " * 300, voice="kal16", engine="flite")])
    assert result["failed"] in ("implausible duration", "silent")
    assert not (tmp_path / "b.flac").exists() and not (tmp_path / "d.flac").exists()


@pytest.mark.slow
def test_synthesize_command_makes_a_resumable_multi_voice_corpus(tmp_path):
    grammar = tmp_path / "home.txt"
    grammar.write_text("$room = kitchen | bedroom | garage\n(turn | switch) (on | off) the $room (lights | fan)\n")
    out = tmp_path / "corpus"
    args = [
        "synthesize",
        "--grammar",
        grammar,
        "--out",
        out,
        "--copies",
        "2",
        "--holdout-voices",
        "slt",
        "--heldout-sentences",
        "4",
        "--workers",
        "2",
    ]
    result = run(*args)
    assert result.returncode == 0, result.stderr
    train = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    held = [json.loads(line) for line in (out / "heldout.jsonl").read_text().splitlines()]
    assert len(train) == 2 * (24 - 4) and len(held) == 4
    assert {row["voice"]["speaker"] for row in held} == {"slt"}
    assert "slt" not in {row["voice"]["speaker"] for row in train}
    for row in train + held:
        info = soundfile.info(row["audio"])
        assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC")
        assert 0.8 < row["duration"] < 8.0 and row["duration"] == pytest.approx(info.frames / 16000, abs=1e-3)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train"]["utterances"] == 40 and summary["train"]["failed"] == {}
    assert sum(summary["train"]["hours_per_voice"].values()) == pytest.approx(summary["train"]["hours"])
    stamps = {row["audio"]: Path(row["audio"]).stat().st_mtime_ns for row in train}
    again = run(*args)
    assert again.returncode == 0, again.stderr
    assert stamps == {row["audio"]: Path(row["audio"]).stat().st_mtime_ns for row in train}  # nothing re-made
    assert all(soundfile.SoundFile(row["audio"]).comment == row["text"] for row in train + held)

    # The grammar changed under the same names: a file that now should say other words is made again.
    grammar.write_text(grammar.read_text().replace("garage", "hallway"))
    changed = run(*args)
    assert changed.returncode == 0, changed.stderr
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert all(soundfile.SoundFile(row["audio"]).comment == row["text"] for row in rows)
    remade = {row["audio"] for row in rows if Path(row["audio"]).stat().st_mtime_ns != stamps.get(row["audio"])}
    assert remade and all("hallway" in row["text"] for row in rows if row["audio"] in remade)


def test_synthesize_user_errors_are_one_line(tmp_path):
    for args in (
        ["--out", tmp_path],
        ["--grammar", tmp_path / "missing.txt", "--out", tmp_path],
        ["--queries", "--engines", "espeak-ng,nonesuch", "--out", tmp_path],
    ):
        result = run("synthesize", *args)
        assert result.returncode in (1, 2), args
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr


@pytest.mark.slow
def test_custom_vocabulary_flow_from_grammar_to_a_recognized_held_out_voice(tmp_path):
    """The README's custom-vocabulary recipe: synthesize a command set, fine-tune, recognize an unseen voice."""
    grammar = tmp_path / "commands.txt"
    grammar.write_text(
        "$room = kitchen | bedroom | garage | hallway\n"
        "$thing = lights | fan | heater | blinds\n"
        "(turn on | turn off | check) the $room $thing\n"
    )
    corpus = tmp_path / "corpus"
    result = run(
        "synthesize",
        "--grammar",
        grammar,
        "--out",
        corpus,
        "--copies",
        "3",
        "--holdout-voices",
        "slt",
        "--heldout-sentences",
        "6",
        "--workers",
        "2",
    )
    assert result.returncode == 0, result.stderr
    result = run(
        "train",
        "--init-from",
        "en-small",
        "--train",
        corpus / "train.jsonl",
        "--out",
        tmp_path / "run",
        "--max-steps",
        "200",
        "--lr",
        "5e-4",
        "--warmup-steps",
        "20",
        "--batch-seconds",
        "40",
        "--checkpoint-every",
        "100",
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr
    vocabulary = corpus / "vocabulary.txt"
    assert vocabulary.read_text().split() == sorted(
        "turn on off check the kitchen bedroom garage hallway lights fan heater blinds".split()
    )
    held = [json.loads(line) for line in (corpus / "heldout.jsonl").read_text().splitlines()]
    result = run(
        "transcribe",
        "--model",
        tmp_path / "run" / "best.pt",
        "--words",
        vocabulary,
        "--format",
        "jsonl",
        *[row["audio"] for row in held],
    )
    assert result.returncode == 0, result.stderr
    hypotheses = [json.loads(line)["text"] for line in result.stdout.splitlines()]
    correct = sum(h == row["text"] for h, row in zip(hypotheses, held))
    assert correct >= 5, list(zip(hypotheses, [row["text"] for row in held]))
