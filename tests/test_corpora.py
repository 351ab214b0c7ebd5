"""The speaker rule, speechocean762, LibriSpeech split by reader in any audio format, untranscribed folders
and their machine labels: exact splits and rows on tiny fixtures in each corpus's released layout.

The audio is a tone per utterance (test_recipes.tone); the layouts and tables are the real ones.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_recipes import tone

from speech2text.cli import main
from speech2text.corpora import CorpusError, split_by_speaker
from speech2text.labels import LABELLER, Label, label_manifest
from speech2text.manifest import read_manifest


def test_the_speaker_rule_deals_groups_in_turn_and_never_shares_a_speaker():
    groups = {f"f{i}": "F" for i in range(7)} | {f"m{i}": "M" for i in range(8)}
    rule = split_by_speaker(groups, test=3, dev=2)
    assert rule == split_by_speaker(dict(reversed(groups.items())), test=3, dev=2)  # order of ids does not matter
    by_split = {name: sorted(s for s, split in rule.items() if split == name) for name in ("train", "dev", "test")}
    assert [len(by_split[name]) for name in ("train", "dev", "test")] == [10, 2, 3]
    assert sorted(groups[s] for s in by_split["test"]) == ["F", "F", "M"]  # dealt F, M, F ...
    assert sorted(groups[s] for s in by_split["dev"]) == ["F", "M"]
    four = {f"{band}{gender}{i}": band + gender for band in "ca" for gender in "fm" for i in range(10)}
    rule = split_by_speaker(four, test=8, dev=4)
    for group in ("cf", "cm", "af", "am"):
        members = [rule[s] for s in four if four[s] == group]
        assert (members.count("test"), members.count("dev")) == (2, 1)
    with pytest.raises(CorpusError, match="leave none to train on"):
        split_by_speaker({"a": "F", "b": "M"}, test=1, dev=1)


def speechocean_fixture(root: Path, speakers: int = 40) -> Path:
    """speechocean762: text, utt2spk, spk2age, spk2gender + audio/SPEAKER{id}/{utt}.ogg, two sentences each."""
    source = root / "speechocean762"
    text, utt2spk, ages, genders = [], [], [], []
    for number in range(1, speakers + 1):
        speaker = f"{number:04d}"
        ages.append(f"{speaker} {8 if number % 2 else 30}")
        genders.append(f"{speaker} {'f' if number % 4 < 2 else 'm'}")
        for index, sentence in enumerate(["WE CALL IT BEAR", "ZERO THREE FIVE ONE"]):
            utterance = f"{speaker}{index:05d}"
            tone(source / "audio" / f"SPEAKER{speaker}" / f"{utterance}.ogg", index, duration_s=1.0, format="OGG")
            text.append(f"{utterance} {sentence}")
            utt2spk.append(f"{utterance} {speaker}")
    for name, lines in {"text": text, "utt2spk": utt2spk, "spk2age": ages, "spk2gender": genders}.items():
        (source / name).write_text("\n".join(lines) + "\n")
    return source


def test_speechocean762_is_split_by_speaker_balanced_over_children_adults_and_gender(tmp_path, capsys):
    source = speechocean_fixture(tmp_path)
    assert main(["prepare", "speechocean762", str(source), "--out", str(tmp_path / "data")]) == 0
    splits = {name: read_manifest(tmp_path / "data" / f"{name}.jsonl") for name in ("train", "dev", "test")}
    speakers = {name: {row["speaker"] for row in rows} for name, rows in splits.items()}
    assert [len(speakers[name]) for name in ("train", "dev", "test")] == [10, 10, 20]
    assert not (speakers["train"] & speakers["dev"] or speakers["train"] & speakers["test"]
                or speakers["dev"] & speakers["test"])
    groups = {name: sorted({(row["speaker"], row["group"]) for row in rows}) for name, rows in splits.items()}
    assert sorted(g for _, g in groups["test"]) == ["adult-f"] * 5 + ["adult-m"] * 5 + ["child-f"] * 5 + ["child-m"] * 5
    row = splits["test"][0]
    assert row["text"] in ("we call it bear", "zero three five one") and row["subset"] == "test"
    assert Path(row["audio"]).parent.name == f"SPEAKER{row['speaker']}" and row["duration"] == pytest.approx(1.0)

    (source / "audio" / "SPEAKER0003" / "000300001.ogg").unlink()
    capsys.readouterr()
    assert main(["prepare", "speechocean762", str(source), "--out", str(tmp_path / "again")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("speech2text: error: ") and "000300001: listed in text but no audio file" in error


def test_librispeech_in_any_audio_format_split_by_reader(tmp_path):
    """A part of one subset, in Ogg and FLAC, with the release's SPEAKERS.TXT: 3 readers test, 2 dev."""
    root = tmp_path / "LibriSpeech"
    readers = {"84": "F", "174": "M", "251": "M", "422": "M", "652": "M", "1272": "M", "1462": "F", "1673": "F"}
    (root / "SPEAKERS.TXT").parent.mkdir(parents=True)
    (root / "SPEAKERS.TXT").write_text(";ID  |SEX| SUBSET | MINUTES | NAME\n" + "".join(
        f"{reader:<5}| {sex} | dev-clean | 8.02 | someone\n" for reader, sex in readers.items()))
    for number, reader in enumerate(readers):
        folder = root / "dev-clean" / reader / "100"
        suffix = ".ogg" if number % 2 else ".flac"
        tone(folder / f"{reader}-100-0000{suffix}", number, duration_s=1.2)
        (folder / f"{reader}-100.trans.txt").write_text(f"{reader}-100-0000 CHAPTER {number + 1}\n")
    assert main(["prepare", "librispeech", str(root), "--split-speakers", "--out", str(tmp_path / "data")]) == 0
    splits = {name: read_manifest(tmp_path / "data" / f"{name}.jsonl") for name in ("train", "dev", "test")}
    assert [len(splits[name]) for name in ("train", "dev", "test")] == [3, 2, 3]
    assert sorted(readers[row["speaker"]] for row in splits["test"]) == ["F", "F", "M"]
    assert sorted(readers[row["speaker"]] for row in splits["dev"]) == ["F", "M"]
    assert {Path(row["audio"]).suffix for rows in splits.values() for row in rows} == {".ogg", ".flac"}
    assert all(row["subset"] == name for name, rows in splits.items() for row in rows)
    assert main(["prepare", "librispeech", str(root), "--out", str(tmp_path / "subsets")]) == 0
    assert len(read_manifest(tmp_path / "subsets" / "dev-clean.jsonl")) == 8  # without the flag: one split a subset


def test_an_untranscribed_folder_is_labelled_with_its_labeller_named(tmp_path):
    source = tmp_path / "recordings"
    for index, name in enumerate(["103-1240-0000.ogg", "sub/7-2-0001.flac", "notes.txt", "sub/quiet.wav"]):
        if name.endswith(".txt"):
            (source / name).write_text("not audio")
        else:
            tone(source / name, index, duration_s=1.0, format="OGG" if name.endswith(".ogg") else None)
    assert main(["prepare", "untranscribed", str(source), "--out", str(tmp_path / "data")]) == 0
    manifest = tmp_path / "data" / "train.jsonl"
    rows = read_manifest(manifest)
    assert [(Path(r["audio"]).name, r["speaker"], r["text"]) for r in rows] == [
        ("103-1240-0000.ogg", "103", ""), ("7-2-0001.flac", "7", ""), ("quiet.wav", "sub", "")]

    heard = {"103-1240-0000.ogg": Label("Chapter 1.", 0.9), "7-2-0001.flac": Label("maybe", 0.3),
             "quiet.wav": Label("", 0.0)}
    out = tmp_path / "data" / "labelled.jsonl"
    in_order = iter(heard[Path(row["audio"]).name] for row in rows)  # the labeller sees samples, not names
    written, skipped = label_manifest(manifest, out, lambda samples: next(in_order), min_confidence=0.5,
                                      progress=False)
    assert written == 1 and skipped.counts == {"label confidence under 0.5": 1, "the labeller heard no words": 1}
    (labelled,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (labelled["text"], labelled["label_source"], labelled["label_confidence"]) == ("chapter one", LABELLER, 0.9)
    assert labelled["speaker"] == "103" and labelled["duration"] == pytest.approx(1.0)


def test_label_refuses_to_write_over_its_manifest(tmp_path):
    manifest = tmp_path / "train.jsonl"
    manifest.write_text(json.dumps({"audio": "a.wav", "text": "", "duration": 1.0}) + "\n")
    before = manifest.read_bytes()
    done = subprocess.run([sys.executable, "-m", "speech2text", "label", str(manifest), "--out", str(manifest)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and manifest.read_bytes() == before
    assert done.stderr.count("\n") == 1 and "this is also an input" in done.stderr


@pytest.mark.slow
def test_whisper_labels_a_demo_file(tmp_path):
    """The real labeller (the `whisper` extra) on a demo file: the right words (label_manifest normalizes them),
    a confidence in (0, 1]."""
    from conftest import ASSETS

    from speech2text.audio import load_audio
    from speech2text.labels import whisper_labeller
    from speech2text.text import normalize_text

    label = whisper_labeller(threads=1)(load_audio(ASSETS / "what_is_your_name.wav"))
    assert normalize_text(label.text) == "what is your name" and 0.5 < label.confidence <= 1.0
