"""Public speech corpora in their released layouts -> JSON-lines manifests, one per split.

    speech2text prepare librispeech /data/LibriSpeech --out work/librispeech
    speech2text prepare commonvoice /data/cv-corpus-17.0/en --out work/commonvoice
    speech2text prepare ljspeech /data/LJSpeech-1.1 --out work/ljspeech
    speech2text prepare fsdd /data/free-spoken-digit-dataset --out work/fsdd
    speech2text prepare speechocean762 /data/speechocean762 --out work/speechocean762
    speech2text prepare untranscribed /data/my-recordings --out work/mine   (then `speech2text label`)

Each corpus is one function `(source, out) -> {split: rows}`; `prepare` writes
`OUT/{split}.jsonl` in the trainer's manifest format (manifest.read_manifest) with
absolute audio paths. Transcripts go through text.normalize_text. Every row
carries a "subset" field (the split name), so `speech2text evaluate` can score
several splits at once and report each.

A speaker is in one of train, dev or test, never two. Corpora whose release has no
speaker-disjoint split get one here (split_by_speaker), one fixed rule per corpus.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import soundfile
from tqdm import tqdm

from .manifest import write_manifest
from .errors import Speech2TextError
from .text import normalize_text

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
LIBRISPEECH_SUBSETS = ("train-clean-100", "train-clean-360", "train-other-500", "dev-clean", "dev-other",
                       "test-clean", "test-other")
# LJ Speech ships without a split: the last utterances of metadata.csv are held out, the bundled model's
# rule (its model card scores the last 35 of ../shared/data/ljspeech-part, the 25 before them pick checkpoints).
LJSPEECH_TEST = 35
LJSPEECH_DEV = 25
# FSDD: recordings 0-4 of every speaker are the dataset's test split; of a speaker held out whole
# (--unseen-speakers), 45-49 pick checkpoints and 0-44 are a test of voices never heard.
FSDD_UNSEEN_DEV = range(45, 50)
# The releases ship WAV or FLAC; converted copies (as in ../shared/data) are FLAC, MP3 or Ogg Opus.
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus")
# LibriSpeech pooled and split by speaker (--split-speakers; the release's own subsets are speaker-disjoint
# already): 3 readers test, 2 dev, the rest train, dealt evenly over women and men (split_by_speaker).
LIBRISPEECH_SPEAKERS_TEST = 3
LIBRISPEECH_SPEAKERS_DEV = 2
# speechocean762's own train/test halves share no speaker but leave no dev: 20 speakers test and 10 dev,
# dealt evenly over four groups: girls, boys, women, men (children are under 16).
SPEECHOCEAN_SPEAKERS_TEST = 20
SPEECHOCEAN_SPEAKERS_DEV = 10
SPEECHOCEAN_CHILD_BELOW_AGE = 16


class CorpusError(Speech2TextError, ValueError):
    """A source folder that is missing or not in the corpus's released layout."""


def _durations_s(paths: list[Path], workers: int, desc: str) -> list[float]:
    """Durations from the file headers (no decoding), read by several threads: libsndfile releases the GIL."""

    def duration(path: Path) -> float:
        try:
            return round(soundfile.info(str(path)).duration, 3)
        except (soundfile.LibsndfileError, RuntimeError) as error:
            raise CorpusError(f"{path}: not a readable audio file ({getattr(error, 'error_string', error)})") from None

    with ThreadPoolExecutor(max(1, workers)) as pool:
        return list(tqdm(pool.map(duration, paths), total=len(paths), desc=desc, leave=False, disable=len(paths) < 500))


def _audio_file(folder: Path, stem: str, listed_in: str | None = None) -> Path:
    """folder/stem with the first audio suffix present (AUDIO_SUFFIXES)."""
    for suffix in AUDIO_SUFFIXES:
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    where = f"listed in {listed_in} but " if listed_in else ""
    raise CorpusError(f"{folder / stem}: {where}no audio file ({', '.join(AUDIO_SUFFIXES)})")


def _librispeech_genders(source: Path) -> dict[str, str]:
    """Reader id -> F or M from the release's SPEAKERS.TXT, in SOURCE or above it ({} when it is absent)."""
    for folder in (source, *source.parents[:2]):
        if (folder / "SPEAKERS.TXT").is_file():
            genders = {}
            for line in (folder / "SPEAKERS.TXT").read_text(encoding="utf-8", errors="replace").splitlines():
                fields = [f.strip() for f in line.split("|")]
                if not line.startswith(";") and len(fields) >= 2:
                    genders[fields[0]] = fields[1]
            return genders
    return {}


def split_by_speaker(groups: dict[str, str], test: int, dev: int) -> dict[str, str]:
    """{speaker: group} -> {speaker: "train" | "dev" | "test"}: the one speaker rule of every corpus here.

    Within each group (a gender, an age band) speakers are ordered by a hash of their id, which is fixed
    and unrelated to recording order; the groups are then dealt from in turn, `test` speakers first, then
    `dev`, so that both sets are as balanced over the groups as their sizes allow. Everyone else trains.
    """
    if test + dev >= len(groups):
        raise CorpusError(f"{len(groups)} speakers leave none to train on after {test} test and {dev} dev speakers")
    queues = {group: sorted((s for s, g in groups.items() if g == group),
                            key=lambda s: hashlib.sha1(s.encode()).hexdigest()) for group in sorted(set(groups.values()))}
    dealt = []
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                dealt.append(queue.pop(0))
    return {speaker: "test" if k < test else "dev" if k < test + dev else "train" for k, speaker in enumerate(dealt)}


def _require_dir(path: Path, what: str) -> None:
    if not path.is_dir():
        raise CorpusError(f"{path}: no such folder ({what})")


def librispeech(source: Path, workers: int = 8, subsets: list[str] | None = None,
                split_speakers: bool = False) -> dict[str, list[dict]]:
    """LibriSpeech: SOURCE/SUBSET/SPEAKER/CHAPTER/{SPEAKER-CHAPTER-UTT.flac, SPEAKER-CHAPTER.trans.txt}.

    SOURCE is the LibriSpeech folder holding any combination of subsets, or one subset folder; the
    audio may be in any of AUDIO_SUFFIXES. One split per subset, named after it (train-clean-100,
    dev-clean, test-other, ...). With `split_speakers`, the subsets are pooled and split by reader
    into train, dev and test instead (for a part of one subset, as in ../shared/data).
    """
    _require_dir(source, "the LibriSpeech folder")
    if any(source.glob("*/*/*.trans.txt")):
        found = {source.name: source}
    else:
        found = {d.name: d for d in sorted(source.iterdir()) if d.is_dir() and any(d.glob("*/*/*.trans.txt"))}
    if not found:
        raise CorpusError(f"{source}: no LibriSpeech subsets (SUBSET/SPEAKER/CHAPTER/*.trans.txt) in it")
    if subsets:
        missing = [s for s in subsets if s not in found]
        if missing:
            raise CorpusError(f"{source}: subset {missing[0]} not found (present: {', '.join(found)})")
        found = {s: found[s] for s in subsets}
    splits = {}
    for subset, folder in found.items():
        entries = []
        for transcripts in sorted(folder.glob("*/*/*.trans.txt")):
            for number, line in enumerate(transcripts.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                utterance_id, _, text = line.partition(" ")
                if not text.strip():
                    raise CorpusError(f"{transcripts}:{number}: expected 'UTTERANCE-ID TRANSCRIPT'")
                audio = _audio_file(transcripts.parent, utterance_id, listed_in=transcripts.name)
                entries.append((audio, text, utterance_id.split("-")[0]))
        durations = _durations_s([audio for audio, _, _ in entries], workers, subset)
        splits[subset] = [{"audio": str(audio.resolve()), "text": normalize_text(text), "duration": duration,
                           "speaker": speaker, "subset": subset}
                          for (audio, text, speaker), duration in zip(entries, durations)]
    if split_speakers:
        pooled = [row for rows in splits.values() for row in rows]
        genders = _librispeech_genders(source)
        rule = split_by_speaker({row["speaker"]: genders.get(row["speaker"], "?") for row in pooled},
                                LIBRISPEECH_SPEAKERS_TEST, LIBRISPEECH_SPEAKERS_DEV)
        splits = {name: [row | {"subset": name} for row in pooled if rule[row["speaker"]] == name]
                  for name in ("train", "dev", "test")}
    return splits


def _read_tsv(path: Path) -> list[dict]:
    if not path.is_file():
        raise CorpusError(f"{path}: no such file (a Common Voice release has train.tsv, dev.tsv and test.tsv)")
    with open(path, encoding="utf-8", newline="") as f:
        # Sentences hold quote characters; Common Voice writes them unescaped.
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if rows and not {"path", "sentence"} <= rows[0].keys():
        raise CorpusError(f"{path}: expected 'path' and 'sentence' columns, found {', '.join(rows[0])}")
    return rows


def commonvoice(source: Path, workers: int = 8) -> dict[str, list[dict]]:
    """Common Voice (one language of a release): SOURCE/{train,dev,test}.tsv + SOURCE/clips/*.mp3.

    Durations come from clip_durations.tsv where the release has it (from 2023 on): reading
    the header of a million mp3 files is slow. Sentences that normalize to nothing are left out.
    """
    _require_dir(source, "the Common Voice language folder")
    clips = source / "clips"
    _require_dir(clips, "Common Voice keeps its audio in clips/")
    known_durations = {}
    if (source / "clip_durations.tsv").is_file():
        with open(source / "clip_durations.tsv", encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                known_durations[row["clip"]] = int(row["duration[ms]"]) / 1000
    splits = {}
    for split in ("train", "dev", "test"):
        entries = []
        for row in _read_tsv(source / f"{split}.tsv"):
            text = normalize_text(row["sentence"] or "")
            if not text:
                continue
            audio = clips / row["path"]
            if not audio.is_file():
                raise CorpusError(f"{audio}: listed in {split}.tsv but missing")
            entries.append((audio, text, row.get("client_id", "")))
        unknown = [audio for audio, _, _ in entries if audio.name not in known_durations]
        known_durations.update(zip((a.name for a in unknown), _durations_s(unknown, workers, split)))
        splits[split] = [{"audio": str(audio.resolve()), "text": text, "duration": known_durations[audio.name],
                          "speaker": speaker, "subset": split} for audio, text, speaker in entries]
    return splits


def ljspeech(source: Path, workers: int = 8, test: int = LJSPEECH_TEST, dev: int = LJSPEECH_DEV) -> dict[str, list[dict]]:
    """LJ Speech 1.1: SOURCE/metadata.csv (id|raw text|normalized text) + SOURCE/wavs/{id}.wav.

    The normalized column (numbers spelled out) is the transcript. The last `test` utterances of
    metadata.csv are the test split, the `dev` before them dev, the rest train: the bundled model's
    own held-out sets on ../shared/data/ljspeech-part (one reader, so they test unseen text).
    """
    metadata = source / "metadata.csv"
    if not metadata.is_file():
        raise CorpusError(f"{metadata}: no such file (LJ Speech has metadata.csv and wavs/)")
    entries = []
    for number, line in enumerate(metadata.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("|")
        if len(fields) < 2:
            raise CorpusError(f"{metadata}:{number}: expected 'ID|TEXT|NORMALIZED TEXT'")
        text = fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]
        entries.append((_audio_file(source / "wavs", fields[0]), normalize_text(text)))
    if len(entries) <= test + dev:
        raise CorpusError(f"{metadata}: {len(entries)} utterances leave none to train on after {test} test and "
                          f"{dev} dev ones")
    durations = _durations_s([audio for audio, _ in entries], workers, "ljspeech")
    dev_start, test_start = len(entries) - test - dev, len(entries) - test
    splits: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    for number, ((audio, text), duration) in enumerate(zip(entries, durations)):
        split = "test" if number >= test_start else "dev" if number >= dev_start else "train"
        splits[split].append({"audio": str(audio.resolve()), "text": text, "duration": duration, "speaker": "lj",
                              "subset": split})
    return splits


def fsdd(source: Path, workers: int = 8, unseen_speakers: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """Free Spoken Digit Dataset: SOURCE/recordings/{digit}_{speaker}_{index}.wav.

    The dataset's own convention makes indices 0-4 of every speaker the test split. Of
    the rest, indices 5-9 become a dev split (for choosing the best epoch and early
    stopping, so that the test split never steers training) and 10 and up train.
    `unseen_speakers` are held out whole: their indices 45-49 are unseen_dev (checkpoints
    chosen on voices never trained on), 0-44 unseen_test.
    """
    recordings = source / "recordings"
    _require_dir(recordings, "FSDD keeps its audio in recordings/")
    entries = []
    for audio in sorted(p for p in recordings.iterdir() if p.suffix in AUDIO_SUFFIXES):
        parts = audio.stem.split("_")
        if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) != 1 or not parts[2].isdigit():
            raise CorpusError(f"{audio}: not an FSDD name ({{digit}}_{{speaker}}_{{index}})")
        index = int(parts[2])
        if parts[1] in unseen_speakers:
            split = "unseen_dev" if index in FSDD_UNSEEN_DEV else "unseen_test"
        else:
            split = "test" if index < 5 else "dev" if index < 10 else "train"
        entries.append((audio, DIGITS[int(parts[0])], parts[1], split))
    if not entries:
        raise CorpusError(f"{recordings}: no recordings ({{digit}}_{{speaker}}_{{index}}.wav)")
    missing = sorted(set(unseen_speakers) - {speaker for _, _, speaker, _ in entries})
    if missing:
        raise CorpusError(f"{recordings}: no recordings of {', '.join(missing)} (--unseen-speakers)")
    durations = _durations_s([audio for audio, _, _, _ in entries], workers, "fsdd")
    splits: dict[str, list[dict]] = {name: [] for name in ("train", "dev", "test")}
    splits |= {name: [] for name in ("unseen_dev", "unseen_test") if unseen_speakers}
    for (audio, text, speaker, split), duration in zip(entries, durations):
        splits[split].append({"audio": str(audio.resolve()), "text": text, "duration": duration, "speaker": speaker,
                              "subset": split})
    return splits


def _kaldi_table(path: Path) -> dict[str, str]:
    """A Kaldi-style table: one 'KEY VALUE...' per line."""
    if not path.is_file():
        raise CorpusError(f"{path}: no such file (speechocean762 has text, utt2spk, spk2age and spk2gender)")
    table = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        key, _, value = line.strip().partition(" ")
        if not key:
            continue
        if not value.strip():
            raise CorpusError(f"{path}:{number}: expected 'KEY VALUE'")
        table[key] = value.strip()
    return table


def speechocean762(source: Path, workers: int = 8) -> dict[str, list[dict]]:
    """speechocean762: Kaldi-style tables (text, utt2spk, spk2age, spk2gender) + SOURCE/audio/SPEAKER{id}/{utt}.*

    Non-native (Mandarin L1) English, children and adults. Split by speaker into train, dev and test
    (SPEECHOCEAN_SPEAKERS_*), balanced over girls, boys, women and men.
    """
    texts = _kaldi_table(source / "text")
    speakers = _kaldi_table(source / "utt2spk")
    ages, genders = _kaldi_table(source / "spk2age"), _kaldi_table(source / "spk2gender")
    _require_dir(source / "audio", "speechocean762 keeps its audio in audio/SPEAKER{id}/")

    def group(speaker: str) -> str:
        age = ages.get(speaker, "")
        band = "child" if age.isdigit() and int(age) < SPEECHOCEAN_CHILD_BELOW_AGE else "adult"
        return f"{band}-{genders.get(speaker, '?')}"

    entries = []
    for utterance, text in texts.items():
        if utterance not in speakers:
            raise CorpusError(f"{source / 'utt2spk'}: no speaker for utterance {utterance}")
        speaker = speakers[utterance]
        entries.append((_audio_file(source / "audio" / f"SPEAKER{speaker}", utterance, listed_in="text"),
                        normalize_text(text), speaker))
    rule = split_by_speaker({speaker: group(speaker) for _, _, speaker in entries},
                            SPEECHOCEAN_SPEAKERS_TEST, SPEECHOCEAN_SPEAKERS_DEV)
    durations = _durations_s([audio for audio, _, _ in entries], workers, "speechocean762")
    splits: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    for (audio, text, speaker), duration in zip(entries, durations):
        split = rule[speaker]
        splits[split].append({"audio": str(audio.resolve()), "text": text, "duration": duration, "speaker": speaker,
                              "group": group(speaker), "subset": split})
    return splits


def untranscribed(source: Path, workers: int = 8) -> dict[str, list[dict]]:
    """A folder of audio files (any depth) without transcripts -> one split, `train`, with empty text.

    `speech2text label` gives the rows machine labels. The speaker is the file name's part before its
    first '-' (LibriSpeech's SPEAKER-CHAPTER-UTT) where it has one, else the file's folder.
    """
    files = sorted(p for p in source.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise CorpusError(f"{source}: no audio files ({', '.join(AUDIO_SUFFIXES)}) in it")
    durations = _durations_s(files, workers, "untranscribed")
    return {"train": [{"audio": str(audio.resolve()), "text": "", "duration": duration,
                       "speaker": audio.stem.split("-")[0] if "-" in audio.stem else audio.parent.name,
                       "subset": "train"} for audio, duration in zip(files, durations)]}


CORPORA: dict[str, Callable[..., dict[str, list[dict]]]] = {
    "librispeech": librispeech, "commonvoice": commonvoice, "ljspeech": ljspeech, "fsdd": fsdd,
    "speechocean762": speechocean762, "untranscribed": untranscribed,
}


def prepare(corpus: str, source: str | Path, out: str | Path, **options) -> dict[str, Path]:
    """Write OUT/{split}.jsonl for every split of `corpus` found in `source`; returns {split: manifest}."""
    if corpus not in CORPORA:
        raise CorpusError(f"unknown corpus {corpus!r} (known: {', '.join(CORPORA)})")
    if not Path(source).is_dir():
        raise CorpusError(f"{source}: no such folder")
    splits = CORPORA[corpus](Path(source), **options)
    manifests = {}
    for split, rows in splits.items():
        if not rows:
            raise CorpusError(f"{source}: the {split} split came out empty")
        manifests[split] = Path(out) / f"{split}.jsonl"
        write_manifest(manifests[split], rows)
    return manifests
