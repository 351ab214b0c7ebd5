"""Each recipe's run.sh on a tiny fixture in its corpus's real layout: prepare, a few training steps, evaluate.

The audio is synthesized (harmonic tones, one pitch per utterance): the layouts, file formats
(flac, mp3, wav at 8 kHz) and transcripts are real, the speech is not, so the tests check that
the stages run and hand their files on, not what the model learns (tests/test_train.py does that).
"""

import json
import os
import re
import subprocess
import tarfile
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import DIGITS, ROOT

from speech2text.cli.training import CORPUS_NAMES
from speech2text.corpora import CORPORA
from speech2text.manifest import read_manifest
from speech2text.train import TrainConfig, read_config_file

# A few steps of a very small model: enough to write last.pt and best.pt for the later stages.
TINY = ["max_steps=2", "epochs=1", "warmup_steps=1", "max_batch_s=20", "model.hidden_size=16", "model.num_layers=1",
        "model.conv_channels=16", "threads=1", "num_workers=0", "progress=false"]


def tone(path: Path, seed: int, duration_s: float = 0.6, sample_rate: int = 16_000, **options) -> None:
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    f0 = 100 + 15 * seed
    signal = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6)) * np.hanning(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), (0.2 * signal).astype(np.float32), sample_rate, **options)


def librispeech_fixture(root: Path) -> Path:
    """LibriSpeech/SUBSET/SPEAKER/CHAPTER/SPEAKER-CHAPTER-NNNN.flac + SPEAKER-CHAPTER.trans.txt."""
    texts = ["HE HOPED THERE WOULD BE STEW FOR DINNER", "TURNIPS AND CARROTS AND BRUISED POTATOES",
             "THE CAPTAIN'S DOG RAN", "IN 1845 HE LEFT"]
    layout = {"train-clean-100": [("19", "198"), ("26", "495")], "dev-clean": [("84", "121123")],
              "test-clean": [("1089", "134686")], "test-other": [("1688", "142285")]}
    for subset, chapters in layout.items():
        for speaker, chapter in chapters:
            folder = root / "LibriSpeech" / subset / speaker / chapter
            lines = []
            for index, text in enumerate(texts[:2] if subset.startswith("test") else texts):
                utterance = f"{speaker}-{chapter}-{index:04d}"
                tone(folder / f"{utterance}.flac", index + len(lines), duration_s=2.0 + 0.1 * index)
                lines.append(f"{utterance} {text}")
            (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    return root / "LibriSpeech"


def commonvoice_fixture(root: Path) -> Path:
    """cv-corpus/en/{train,dev,test}.tsv + clips/*.mp3, with the release's quoting and an empty sentence."""
    source = root / "cv-corpus-17.0" / "en"
    header = "client_id\tpath\tsentence_id\tsentence\tsentence_domain\tup_votes\tdown_votes\tage\tgender\n"
    sentences = {"train": ['He said "hello" twice.', "It costs $5.", "Go north!", "\u2014"],
                 "dev": ["Where is it?"], "test": ["Turn left.", "Stop here."]}
    for split, texts in sentences.items():
        rows = []
        for index, text in enumerate(texts):
            clip = f"common_voice_en_{split}_{index}.mp3"
            tone(source / "clips" / clip, index, duration_s=1.5, format="MP3")
            rows.append(f"client{index}\t{clip}\tid{index}\t{text}\t\t2\t0\t\t\n")
        (source / f"{split}.tsv").write_text(header + "".join(rows))
    return source


def ljspeech_fixture(root: Path) -> Path:
    """LJSpeech-1.1/metadata.csv (id|text|normalized) + wavs/ID.wav: eight utterances."""
    source = root / "LJSpeech-1.1"
    lines = []
    for index in range(8):
        utterance_id = f"LJ001-{index + 1:04d}"
        # 2 s: long enough for CTC to spell the sentence (shorter rows are skipped as infeasible)
        tone(source / "wavs" / f"{utterance_id}.wav", index, duration_s=2.0, sample_rate=22_050)
        lines.append(f"{utterance_id}|Printed in 1476, by Caxton.|Printed in fourteen seventy-six, by Caxton.")
    (source / "metadata.csv").write_text("\n".join(lines) + "\n")
    return source


def fsdd_fixture(root: Path) -> Path:
    """free-spoken-digit-dataset/recordings/{digit}_{speaker}_{index}.wav at 8 kHz: indices 0-4 test, 5-9 dev."""
    source = root / "free-spoken-digit-dataset"
    for digit in (0, 1, 7):
        for index in (0, 5, 10, 11):
            tone(source / "recordings" / f"{digit}_jackson_{index}.wav", digit, duration_s=0.4, sample_rate=8_000)
    return source


def run_recipe(corpus: str, source: Path, work: Path, *args: str, **env_vars: str) -> subprocess.CompletedProcess:
    variable = {"librispeech": "LIBRISPEECH", "commonvoice": "COMMONVOICE", "ljspeech": "LJSPEECH", "fsdd": "FSDD"}
    env = {**os.environ, "PYTHON": sys.executable, "WORK": str(work), variable[corpus]: str(source), **env_vars}
    done = subprocess.run(["bash", str(ROOT / "recipes" / corpus / "run.sh"), *args, *TINY], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def evaluated_subsets(output: str) -> list[str]:
    return re.findall(r"^  (\S+) +\d+ +[\d.]+% ", output, flags=re.MULTILINE)


def test_every_corpus_is_prepared_by_a_recipe_and_each_recipe_config_is_valid():
    assert set(CORPUS_NAMES) == set(CORPORA)
    recipes = "".join(path.read_text() for path in ROOT.glob("recipes/*/run.sh"))
    for corpus in CORPORA:
        assert f"prepare {corpus} " in recipes, corpus
    for corpus in [name for name in CORPORA if (ROOT / "recipes" / name).is_dir()]:
        config = TrainConfig.from_dict(read_config_file(ROOT / "recipes" / corpus / "config.toml"))
        assert config.dev_manifest == f"work/{corpus}/data/dev{'-clean' if corpus == 'librispeech' else ''}.jsonl"
        assert (ROOT / "recipes" / corpus / "README.md").is_file()


def test_librispeech_recipe(tmp_path):
    source = librispeech_fixture(tmp_path)
    done = run_recipe("librispeech", source, tmp_path / "work", "--stop-stage", "3")
    data = tmp_path / "work" / "data"
    assert sorted(p.name for p in data.glob("*.jsonl")) == [
        "dev-clean.jsonl", "test-clean.jsonl", "test-other.jsonl", "train-clean-100.jsonl"]
    train = read_manifest(data / "train-clean-100.jsonl")
    assert [row["text"] for row in train[:4]] == [
        "he hoped there would be stew for dinner", "turnips and carrots and bruised potatoes", "the captain's dog ran",
        "in eighteen forty five he left"]
    assert (train[2]["speaker"], train[2]["subset"], train[2]["duration"]) == ("19", "train-clean-100", 2.2)
    assert Path(train[2]["audio"]) == source / "train-clean-100" / "19" / "198" / "19-198-0002.flac"
    assert len(train) == 8
    assert evaluated_subsets(done.stdout) == ["dev-clean", "test-clean", "test-other"]
    hypotheses = [json.loads(line) for line in (tmp_path / "work" / "hyp_greedy.jsonl").read_text().splitlines()]
    assert [h["subset"] for h in hypotheses] == ["dev-clean"] * 4 + ["test-clean"] * 2 + ["test-other"] * 2


def test_commonvoice_recipe(tmp_path):
    source = commonvoice_fixture(tmp_path)
    done = run_recipe("commonvoice", source, tmp_path / "work", "--stop-stage", "3")
    train = read_manifest(tmp_path / "work" / "data" / "train.jsonl")
    # The sentence that is only a dash normalizes to nothing and is left out.
    assert [row["text"] for row in train] == ["he said hello twice", "it costs five dollars", "go north"]
    assert train[0]["duration"] == pytest.approx(1.5, abs=0.1)  # mp3 frames pad the end a little
    assert evaluated_subsets(done.stdout) == ["dev", "test"]
    assert "utterances 3  " in done.stdout


def test_ljspeech_recipe(tmp_path):
    source = ljspeech_fixture(tmp_path)
    done = run_recipe("ljspeech", source, tmp_path / "work", "--stop-stage", "3", LJ_TEST="2", LJ_DEV="2")
    data = tmp_path / "work" / "data"
    ids = {split: [Path(r["audio"]).stem for r in read_manifest(data / f"{split}.jsonl")] for split in ("train", "dev", "test")}
    # The end of metadata.csv is held out: the last two test, the two before them dev.
    assert ids == {"train": [f"LJ001-000{n}" for n in (1, 2, 3, 4)], "dev": ["LJ001-0005", "LJ001-0006"],
                   "test": ["LJ001-0007", "LJ001-0008"]}
    row = read_manifest(data / "test.jsonl")[0]
    assert (row["text"], row["duration"]) == ("printed in fourteen seventy six by caxton", 2.0)
    assert "utterances 2  " in done.stdout


def test_fsdd_recipe_all_stages_and_resume(tmp_path):
    source = fsdd_fixture(tmp_path)
    work = tmp_path / "work"
    done = run_recipe("fsdd", source, work)
    rows = {split: read_manifest(work / "data" / f"{split}.jsonl") for split in ("train", "dev", "test")}
    assert [Path(row["audio"]).name for row in rows["test"]] == [f"{d}_jackson_0.wav" for d in (0, 1, 7)]
    assert [row["text"] for row in rows["test"]] == ["zero", "one", "seven"]
    assert [len(rows[split]) for split in ("train", "dev", "test")] == [6, 3, 3]
    assert {row["text"] for row in rows["train"]} == {DIGITS[0], DIGITS[1], DIGITS[7]}
    assert re.search(r"utterances 3 .* exact [\d.]+%", done.stdout)
    assert (work / "digits.torchscript.pt").stat().st_size > 10_000
    # Every stage left its marker: running again does nothing but say so.
    again = run_recipe("fsdd", source, work)
    assert again.stdout.splitlines() == [f"stage {n} ({name}): done before"
                                         for n, name in enumerate(["prepare", "train", "evaluate", "export"], start=1)]


def test_fsdd_speakers_held_out_whole(tmp_path, capsys):
    from speech2text.cli import main

    source = fsdd_fixture(tmp_path)
    for digit, index in ((0, 0), (0, 5), (0, 44), (0, 45), (3, 49)):
        tone(source / "recordings" / f"{digit}_theo_{index}.wav", digit, duration_s=0.4, sample_rate=8_000)
    assert main(["prepare", "fsdd", str(source), "--out", str(tmp_path / "data"), "--unseen-speakers", "theo"]) == 0
    names = {split: sorted(Path(r["audio"]).stem for r in read_manifest(tmp_path / "data" / f"{split}.jsonl"))
             for split in ("train", "dev", "test", "unseen_dev", "unseen_test")}
    assert names["unseen_dev"] == ["0_theo_45", "3_theo_49"]
    assert names["unseen_test"] == ["0_theo_0", "0_theo_44", "0_theo_5"]
    assert not any("theo" in name for split in ("train", "dev", "test") for name in names[split])
    assert len(names["test"]) == 3 and len(names["dev"]) == 3 and len(names["train"]) == 6
    capsys.readouterr()
    assert main(["prepare", "fsdd", str(source), "--out", str(tmp_path / "x"), "--unseen-speakers", "nobody"]) == 1
    assert "no recordings of nobody" in capsys.readouterr().err


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_a_missing_or_wrong_source_is_one_line(corpus, tmp_path, capsys):
    from speech2text.cli import main

    (tmp_path / "empty").mkdir()
    for source in (tmp_path / "missing", tmp_path / "empty"):
        assert main(["prepare", corpus, str(source), "--out", str(tmp_path / "out")]) == 1
        message = capsys.readouterr().err
        assert message.startswith(f"speech2text: error: {source}")
        assert len(message.splitlines()) == 1


def test_scores_per_subset():
    from speech2text.evaluate import Evaluation

    result = Evaluation(wer=0.0, cer=0.0, rtf=0.0, audio_s=1.0, references=["one two", "three", "four", "five six"],
                        hypotheses=["one two", "tree", "four", "five"], rows=[{}] * 4)
    assert result.exact == 0.5
    assert result.by_subset(["dev", "test", "dev", "test"]) == {
        "dev": {"utterances": 2, "wer": 0.0, "cer": 0.0, "exact": 1.0},
        "test": {"utterances": 2, "wer": 2 / 3, "cer": 5 / 13, "exact": 0.0},
    }


def test_synthetic_recipe_scores_each_held_out_voice(tmp_path):
    """recipes/synthetic on a few sentences: realism and clean shares, training, one score per held-out voice."""
    text = tmp_path / "sentences.txt"
    text.write_text("\n".join(f"the {animal} crossed the {place} at dawn" for animal in ("fox", "cat", "owl", "hen")
                              for place in ("road", "field", "river")) + "\n")
    work = tmp_path / "work"
    env = {**os.environ, "PYTHON": sys.executable, "WORK": str(work), "TEXT": str(text), "HOURS": "0.004",
           "CLEAN_HOURS": "0.002", "HELDOUT_SENTENCES": "12", "DEV_SENTENCES": "2", "WORKERS": "2", "EPOCHS": "1",
           "HIDDEN": "16", "LAYERS": "1", "BATCH_SECONDS": "20", "VTLP": "0.9,1.15"}
    done = subprocess.run(["bash", str(ROOT / "recipes" / "synthetic" / "run.sh")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    train = read_manifest(work / "corpus" / "train.jsonl")
    clean = read_manifest(work / "clean" / "train.jsonl")
    assert train and clean and all(row["realism"] == {} for row in clean)
    # Neither held-out speaker says a word in training; each is scored on its own.
    assert not {row["voice"]["speaker"] for row in train + clean} & {"slt", "ked"}
    assert evaluated_subsets(done.stdout) == ["heldout_slt", "heldout_ked"]
    heldout = read_manifest(work / "corpus" / "heldout.jsonl")
    assert sum(len(read_manifest(work / f"heldout_{s}.jsonl")) for s in ("slt", "ked")) == len(heldout)
    augment = json.loads((work / "run" / "config.json").read_text())["augment"]
    assert (augment["speeds"], augment["vtlp"]) == ([0.9, 1.0, 1.1, 1.2], [0.9, 1.15])


def test_average_py_means_two_runs_and_export_py_exports_the_mean(fsdd_manifest, tmp_path):
    """The default recipe's tools in small: two runs from one start, trained differently, average.py (the
    tool for checkpoint means), export.py (run.sh stage 8)."""
    import torch

    from speech2text.augment import AugmentConfig
    from speech2text.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
    from speech2text.features import FeatureConfig
    from speech2text.model import AcousticModel, ModelConfig
    from speech2text.text import Vocabulary
    from speech2text.train import train

    start = tmp_path / "start.pt"
    save_checkpoint(start, Checkpoint(AcousticModel(ModelConfig(hidden_size=16, num_layers=1, conv_channels=16)),
                                      FeatureConfig(), Vocabulary(), {"name": "start"}))
    settings = {"train_manifests": (str(fsdd_manifest),), "init_from": str(start), "max_steps": 2, "lr": 1e-3,
                "warmup_steps": 1, "max_batch_s": 100.0, "progress": False, "threads": 1, "num_workers": 0}
    runs = [train(TrainConfig(**settings, out_dir=str(tmp_path / "plain"), augment=None)),
            train(TrainConfig(**settings, out_dir=str(tmp_path / "warped"), augment=AugmentConfig(vtlp=(0.9, 1.1))))]

    def script(name: str, *args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "recipes/default_model" / name), *map(str, args)],
                              capture_output=True, text=True, timeout=120)

    mean, exported = tmp_path / "average.pt", tmp_path / "en-small.pt"
    assert script("average.py", *runs, "-o", mean).returncode == 0
    assert script("export.py", mean, exported).returncode == 0
    model = load_checkpoint(exported)
    trained = [load_checkpoint(run).model.state_dict() for run in runs]
    for name, weight in model.model.state_dict().items():
        assert torch.allclose(weight, (trained[0][name] + trained[1][name]) / 2, atol=1e-3), name
    metadata = model.metadata
    assert (metadata["name"], metadata["weights"]) == ("en-small", "float16")
    assert metadata["fine_tuned_from"][0]["path"] == str(start)  # shared by both runs, so kept on top
    assert [run["path"] for run in metadata["averaged_from"]] == list(map(str, runs))
    assert metadata["train_hours"] > 0

    refused = script("average.py", runs[0], mean, "-o", mean)  # never written over an input
    assert refused.returncode == 1
    assert refused.stderr == f"average.py: error: {mean}: this is also an input; write the output somewhere else\n"


def test_the_conversation_grammar_never_says_a_demo_sentence():
    """recipes/default_model/conversation.gram is spoken for training; the demo's three sentences
    (assets/README.md) must stay in no acoustic training set, whatever the seed."""
    from speech2text.grammar import Grammar

    table = (ROOT / "assets/README.md").read_text()
    demo = set(re.findall(r"^\| `[^`]+` \| [^|]+ \| ([a-z ]+) \|$", table, flags=re.M))
    assert demo == {"what is your name", "set a timer for ten minutes", "what is the weather in paris"}
    path = ROOT / "recipes/default_model/conversation.gram"
    grammar = Grammar(path.read_text(), str(path))
    said = {text for template in grammar.templates for text in grammar.expand(template)}
    assert len(said) > 4000 and sum(" your " in f" {text} " for text in said) > 300
    assert not demo & said


def test_the_orders_grammar_spells_with_the_models_letters_and_covers_each_detail():
    """recipes/default_model/orders.gram goes into the LM (run.sh stage 6): every sentence must be
    normalized text the model can spell, and the sample must hold every size, milk, roast and sugar."""
    from speech2text.grammar import Grammar
    from speech2text.text import LETTERS, SPACE, normalize_text

    grammar = Grammar((ROOT / "recipes/default_model/orders.gram").read_text())
    sentences = grammar.sentences(per_template=600, seed=4)
    letters = set(LETTERS + SPACE)
    assert all(normalize_text(s) == s and set(s) <= letters for s in sentences)
    said = " ".join(sentences)
    for name in ("size", "roast", "milk", "sugar", "drink"):
        for choice in grammar.expand(grammar.rules[name]):
            assert f" {choice} " in f" {said} ", (name, choice)


def listen_script():
    sys.path.insert(0, str(ROOT / "recipes/default_model"))
    try:
        import listen
    finally:
        sys.path.pop(0)
    return listen


def test_listen_py_keeps_what_the_listener_understood_and_resumes(tmp_path):
    """recipes/default_model/listen.py with a stand-in listener: exact kept rows, nothing heard twice, and a
    line cut short by a kill is heard again."""
    listen = listen_script()
    manifest = tmp_path / "train.jsonl"
    rows = [{"audio": f"a{i}.flac", "text": text, "duration": 1.0, "voice": {"engine": engine}}
            for i, (text, engine) in enumerate([("set a timer", "espeak-ng"), ("red car", "espeak-ng"),
                                                ("one two three four", "kokoro")])]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    said = {"a0.flac": "set a timer", "a1.flac": "bread", "a2.flac": "one two three for"}
    calls = []

    def hear(audio: str) -> str:
        calls.append(Path(audio).name)
        return said[Path(audio).name]

    listen.listen(manifest, hear, max_wer=0.5)
    heard, understood = listen.outputs(manifest)
    assert [row["text"] for row in read_manifest(understood)] == ["set a timer", "one two three four"]
    assert [json.loads(line)["wer"] for line in heard.read_text().splitlines()] == [0.0, 1.0, 0.25]
    assert manifest.read_text() == "".join(json.dumps(row) + "\n" for row in rows)

    heard.write_text(heard.read_text().splitlines()[0] + "\n" + '{"audio": "cut sh')
    calls.clear()
    listen.listen(manifest, hear, max_wer=0.2)
    assert calls == ["a1.flac", "a2.flac"]
    assert [row["text"] for row in read_manifest(understood)] == ["set a timer"]


@pytest.mark.slow
def test_listen_py_whisper_hears_the_demo_and_drops_a_wrong_label(tmp_path):
    """The real listener (the `whisper` extra) on two demo files: the right label stays, a wrong one goes;
    an unreadable file is left out with one line, and the script's own output is refused."""
    manifest = tmp_path / "train.jsonl"
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not audio")
    rows = [{"audio": str(ROOT / "assets/what_is_your_name.wav"), "text": "what is your name", "duration": 1.0},
            {"audio": str(ROOT / "assets/set_a_timer.wav"), "text": "the weather in london", "duration": 1.0},
            {"audio": str(broken), "text": "nothing", "duration": 1.0}]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    script = str(ROOT / "recipes/default_model/listen.py")
    done = subprocess.run([sys.executable, script, str(manifest), "--threads", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "kept 1 of 3 utterances" in done.stdout
    assert "broken.wav" in done.stderr and "Traceback" not in done.stderr
    understood = read_manifest(tmp_path / "train.understood.jsonl")
    assert [row["text"] for row in understood] == ["what is your name"]
    refused = subprocess.run([sys.executable, script, str(tmp_path / "train.heard.jsonl")], capture_output=True, text=True)
    assert refused.returncode == 1 and "own output" in refused.stderr


def test_pack_py_and_gpu_sh_pack_derive_train_and_return_a_run(fsdd_manifest, tmp_path):
    """recipes/default_model/pack.py and gpu.sh: a config's manifests in Ogg Opus, augment_real.py's rows
    made again from their packed source, a broken file left out in one line, and gpu.sh's `train` (here
    on the CPU) trains the pack and leaves what comes back from a device call."""
    from speech2text.audio import load_audio
    from speech2text.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
    from speech2text.features import FeatureConfig
    from speech2text.model import AcousticModel, ModelConfig
    from speech2text.synthesis import apply_realism
    from speech2text.text import Vocabulary

    def script(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=ROOT)

    recipe = ROOT / "recipes/default_model"
    real = tmp_path / "data/digits.jsonl"
    broken = tmp_path / "data/broken.flac"
    real.parent.mkdir()
    broken.write_bytes(b"not audio at all" * 100)
    real.write_text(fsdd_manifest.read_text())
    aug = tmp_path / "data/aug"
    assert script(recipe / "augment_real.py", real, "--out", aug, "--copies", "2", "--workers", "1").returncode == 0
    broken_row = json.dumps({"audio": str(broken), "text": "two", "duration": 1.0})
    real.write_text(f"{fsdd_manifest.read_text()}{broken_row}\n")
    start = tmp_path / "start.pt"
    save_checkpoint(start, Checkpoint(AcousticModel(ModelConfig(hidden_size=16, num_layers=1, conv_channels=16)),
                                      FeatureConfig(), Vocabulary(), {"name": "start"}))
    config = tmp_path / "config.toml"
    config.write_text(f'train_manifests = ["{real}", "{aug}/digits.jsonl"]\nsource_weights = [1.0, 1.0]\n'
                      f'dev_manifest = "{real}"\ninit_from = "{start}"\nout_dir = "{tmp_path / "run"}"\n')
    inputs = {path: path.read_bytes() for path in [real, aug / "digits.jsonl", config, start]}
    pack = tmp_path / "gpu/pack"

    packed = script(recipe / "pack.py", "pack", config, "--out", pack, "--workers", "1")
    assert packed.returncode == 0, packed.stderr
    assert "Traceback" not in packed.stderr
    assert [line for line in packed.stderr.splitlines() if "broken" in line] == [
        f"pack.py: {broken}: {load_audio_error(broken)}; left out"]
    assert {path: path.read_bytes() for path in inputs} == inputs
    settings = json.loads((pack / "config.json").read_text())
    assert settings["train_manifests"] == [str(pack / "digits.jsonl"), str(pack / "aug_digits.jsonl")]
    assert (settings["dev_manifest"], settings["init_from"]) == (str(pack / "digits.jsonl"), str(pack / "init.pt"))
    rows, derived = read_manifest(pack / "digits.jsonl"), read_manifest(pack / "aug_digits.jsonl")
    assert [row["text"] for row in rows] == [row["text"] for row in read_manifest(fsdd_manifest)]
    assert sorted(path.name for path in pack.glob("audio/*/*")) == [f"00000{i}.opus" for i in range(4)]
    for row, original in zip(rows, read_manifest(fsdd_manifest)):
        decoded, clean = load_audio(row["audio"]), load_audio(original["audio"])
        assert abs(len(decoded) / 16_000 - row["duration"]) < 1e-3
        assert np.corrcoef(decoded, clean)[0, 1] > 0.9  # 12 kbps wideband speech: the same waveform, near enough
    assert all(set(row) == {"audio", "text", "duration"} for row in rows)  # the synthesis details stay here
    assert all(set(row) == {"audio", "text", "duration", "source", "realism"} for row in derived)
    assert [row["source"] for row in derived] == [f"audio/digits/00000{i // 2}.opus" for i in range(8)]
    assert not any(Path(row["audio"]).exists() for row in derived)

    unpacked = script(recipe / "pack.py", "unpack", pack, "--workers", "1")
    assert unpacked.returncode == 0, unpacked.stderr
    assert unpacked.stdout.splitlines()[-1] == "8 of 8 derived rows in place"
    for row in derived:
        made, _ = soundfile.read(row["audio"], dtype="float32")
        expected = apply_realism(load_audio(pack / row["source"]), row["realism"])
        assert np.abs(made - expected).max() < 1 / 2**15 + 1e-6  # written as 16-bit PCM
        assert abs(len(made) / 16_000 - row["duration"]) < 1e-3
    stamps = {path: path.stat().st_mtime_ns for path in pack.glob("*/*/*")}
    assert script(recipe / "pack.py", "pack", config, "--out", pack, "--workers", "1").returncode == 0
    assert script(recipe / "pack.py", "unpack", pack, "--workers", "1").returncode == 0
    assert {path: path.stat().st_mtime_ns for path in pack.glob("*/*/*")} == stamps  # both resume

    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "GPU_DIR": str(pack.parent), "OUT": str(out), "PYTHON": sys.executable, "DEVICE": "cpu"}
    trained = subprocess.run(["bash", str(recipe / "gpu.sh"), "train", "2", "max_steps=2", "warmup_steps=1",
                              "num_workers=0", "threads=1", "max_batch_s=100"], env=env, capture_output=True, text=True,
                             timeout=300, cwd=ROOT)
    assert trained.returncode == 0, trained.stderr
    assert "gpu.sh: training ended with status 0" in (out / "train.log").read_text()
    assert load_checkpoint(out / "best.pt").metadata["weights"] == "float16"
    with tarfile.open(out / "run.tar.gz") as archive:
        assert sorted(archive.getnames()) == ["config.json", "metrics.jsonl", "metrics.png"]
    joined = tmp_path / "last.pt"
    joined.write_bytes(b"".join(part.read_bytes() for part in sorted(out.glob("last.pt.part-*"))))
    assert load_checkpoint(joined).trainer_state["progress"]["step"] == 2
    over_input = script(recipe / "pack.py", "pack", config, "--out", real.parent, "--workers", "1")
    assert (over_input.returncode, over_input.stderr) == (1, f"pack.py: {real} is an input; pack into another folder\n")
    other_rate = script(recipe / "pack.py", "pack", config, "--out", pack, "--kbps", "16")
    assert (other_rate.returncode, other_rate.stderr) == (
        1, f"pack.py: {pack} holds a pack at 12 kbps, share 1; pack into another folder\n")
    # Half of each training source, evenly spaced, and the augmented rows of the half that is packed.
    half_config = tmp_path / "half.toml"
    half_config.write_text(f'train_manifests = ["{real}", "{aug}/digits.jsonl"]\nout_dir = "{tmp_path / "run"}"\n')
    half = tmp_path / "half"
    assert script(recipe / "pack.py", "pack", half_config, "--out", half, "--share", "0.5").returncode == 0
    assert [row["audio"] for row in read_manifest(half / "digits.jsonl")] == [
        str(half / f"audio/digits/00000{i}.opus") for i in (1, 3)]
    assert [row["source"] for row in read_manifest(half / "aug_digits.jsonl")] == [
        f"audio/digits/00000{i}.opus" for i in (1, 1, 3, 3)]
    assert sorted(path.name for path in half.glob("audio/*/*")) == ["000001.opus", "000003.opus"]
    assert {path: path.read_bytes() for path in inputs} == inputs
    refused = script(recipe / "pack.py", "unpack", tmp_path / "data")
    assert (refused.returncode, refused.stderr) == (1, f"pack.py: {tmp_path / 'data'} holds no pack.json: not a pack\n")


def load_audio_error(path: Path) -> str:
    from speech2text.audio import AudioError, load_audio

    with pytest.raises(AudioError) as error:
        load_audio(path)
    return str(error.value)
