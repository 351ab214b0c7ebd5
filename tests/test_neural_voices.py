"""The natural voices: espeak IPA to Piper ids and Kokoro symbols, blends, held-out blends, real runs."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from speech2text import neural_voices
from speech2text.neural_voices import blend_id, kokoro_phonemes, kokoro_voices, piper_ids, weaken
from speech2text.synthesis import is_held_out, plan_corpus, voice_catalog

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "espeak, kokoro",
    [
        ("həlˈo^ʊ", "həlˈO"),  # diphthongs become Kokoro's single letters
        ("a^ɪd lˈa^ɪk", "Id lˈIk"),
        ("nˈe^ɪm", "nˈAm"),
        ("wˈɛðɚ", "wˈɛðəɹ"),  # r-coloured schwa split
        ("d^ʒˈʌmps t^ʃˈɪps", "ʤˈʌmps ʧˈɪps"),  # affricates
        ("bˈɔ^ɪ", "bˈY"),
        ("fɔːɹ ɐ bɜːd", "fɔɹ ə bɜɹd"),  # American: length marks dropped, ɜː r-coloured
    ],
)
def test_espeak_ipa_becomes_kokoro_symbols(espeak, kokoro):
    assert kokoro_phonemes(espeak) == kokoro


def test_piper_ids_follow_its_bos_pad_eos_convention():
    id_map = {"^": [1], "$": [2], "_": [0], "a": [14], "b": [15]}
    assert piper_ids("ab?", id_map) == [1, 0, 14, 0, 15, 0, 2]  # '?' is not in the map: dropped


def test_weak_forms_change_only_unstressed_function_words():
    ipa = "wˌʌt ɪz jʊ^ɹ nˈe^ɪm, ænd jˈʊɹ fɹˈɛndz kæn kˈʌm"  # "what is your name, and YOUR friends can come"
    assert weaken(ipa, 1.0, random.Random(0)) == "wˌʌt ɪz jɚ nˈe^ɪm, ən jˈʊɹ fɹˈɛndz kən kˈʌm"
    assert weaken(ipa, 0.0, random.Random(0)) == ipa
    assert weaken("ðə kˈæt ænd,", 1.0, random.Random(0)) == "ðə kˈæt ən,"  # a clause's comma stays
    assert kokoro_phonemes(weaken("jʊ^ɹ", 1.0, random.Random(0))) == "jəɹ"
    # A share of them, drawn from the generator: the same seed gives the same words.
    many = " ".join(["ænd"] * 400)
    weak = weaken(many, 0.5, random.Random(3))
    assert weak == weaken(many, 0.5, random.Random(3))
    assert 150 < weak.split().count("ən") < 250


def test_weak_forms_are_planned_for_neural_training_voices_only(tmp_path):
    sentences = [f"sentence number {i}" for i in range(60)]
    options = dict(engines=["piper", "kokoro", "espeak-ng"], holdout_voices={"jf_alpha"}, heldout_sentences=10)
    plain = plan_corpus(sentences, tmp_path, **options)
    weak = plan_corpus(sentences, tmp_path, weak_forms=0.4, **options)
    assert all("weak_forms" not in job["voice"] for split in plain.values() for job in split)
    for job, same in zip(weak["train"], plain["train"]):  # the same plan, the share added to neural voices
        neural = job["voice"]["engine"] in ("piper", "kokoro")
        assert job["voice"] == ({**same["voice"], "weak_forms": 0.4} if neural else same["voice"])
    assert all("weak_forms" not in job["voice"] for job in weak["heldout"])  # held-out voices speak plainly


def test_blend_ids_are_stable_and_name_their_shares():
    assert blend_id({"jm_kumo": 3.0, "jf_nezumi": 2.0}) == "nezumi40+kumo60"
    assert blend_id({"jf_alpha": 1.0}) == "jf_alpha"
    voices = kokoro_voices(6, seed=5)
    assert voices == kokoro_voices(6, seed=5) and len(voices) == 5 + 10 + 6
    for weights in voices[15:]:
        assert 2 <= len(weights) <= 4 or len(weights) == 1
        assert min(weights.values()) >= neural_voices.MIN_BLEND_WEIGHT - 0.01
        assert abs(sum(weights.values()) - 1) < 0.02


def test_holding_out_a_pack_holds_out_every_blend_that_contains_it(tmp_path):
    catalog = voice_catalog(["piper", "kokoro"], kokoro_blends=12)
    with_alpha = [v for v in catalog if "jf_alpha" in v.get("weights", {})]
    assert with_alpha and all(is_held_out(v, {"jf_alpha"}) and is_held_out(v, {"alpha"}) for v in with_alpha)
    plan = plan_corpus(
        [f"sentence number {i}" for i in range(200)], tmp_path, copies=1, engines=["piper", "kokoro"],
        holdout_voices={"jf_alpha"}, heldout_sentences=30, dev_sentences=20, kokoro_blends=12,
        engine_weights={"kokoro": 2, "piper": 1},
    )  # fmt: skip
    spoken = [job["voice"] for split in ("train", "dev") for job in plan[split]]
    assert not any("jf_alpha" in v.get("weights", {}) for v in spoken)
    assert all("jf_alpha" in job["voice"]["weights"] for job in plan["heldout"])
    assert {v["engine"] for v in spoken} == {"piper", "kokoro"}
    # one utterance in three from Piper, as weighed
    assert 0.2 < sum(v["engine"] == "piper" for v in spoken) / len(spoken) < 0.45


def test_more_hours_only_add_training_jobs(tmp_path):
    options = dict(engines=["piper", "kokoro"], holdout_voices={"jf_alpha"}, heldout_sentences=5, dev_sentences=5)
    sentences = [f"sentence number {i}" for i in range(100)]
    small, large = (plan_corpus(sentences, tmp_path, hours=h, **options) for h in (0.05, 0.1))
    assert large["dev"] == small["dev"] and large["heldout"] == small["heldout"]
    assert large["train"][: len(small["train"])] == small["train"] and len(large["train"]) > len(small["train"])


@pytest.mark.parametrize("engine", ["piper", "kokoro"])
def test_each_neural_voice_speaks_a_sentence(engine):
    if engine == "piper":
        audio, rate = neural_voices.piper_speak("what is your name", 0.667, 1.0, 0.8)
    else:
        audio, rate = neural_voices.kokoro_speak("what is your name", {"jm_kumo": 0.6, "jf_nezumi": 0.4}, 1.0)
    assert rate == (22050 if engine == "piper" else 24000)
    seconds = len(audio) / rate
    assert audio.dtype == np.float32 and 0.5 < seconds < 3.0
    assert np.sqrt(np.mean(audio**2)) > 0.01  # speech, not silence


def test_synthesize_command_with_neural_voices_records_voice_ids_and_weights(tmp_path):
    out = tmp_path / "corpus"
    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat today\nturn on the kitchen lights please\nwhat time is it now\n")
    result = subprocess.run(
        [sys.executable, "-m", "speech2text", "synthesize", "--text", str(text), "--engines", "piper,kokoro",
         "--copies", "2", "--heldout-sentences", "0", "--out", str(out), "--workers", "2", "--kokoro-blends", "2",
         "--weak-forms", "0.5"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    for row in rows:
        voice = row["voice"]
        assert voice["engine"] in ("piper", "kokoro") and voice["weak_forms"] == 0.5
        if voice["engine"] == "kokoro":
            assert voice["voice"] == blend_id(voice["weights"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train"]["failed"] == {}


def test_missing_voice_wheels_say_what_to_install(monkeypatch, capsys):
    from speech2text.cli import build_parser

    monkeypatch.setattr(neural_voices, "installed", lambda: {"piper": False, "kokoro": False})
    args = build_parser().parse_args(["synthesize", "--queries", "--engines", "kokoro", "--out", "unused"])
    assert args.run(args) == 1
    message = capsys.readouterr().err.strip()
    assert "kokoro" in message and "pip install 'speech2text[voices]'" in message and "\n" not in message
