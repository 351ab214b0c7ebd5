"""Manifests for the first bundled model from the real speech in ../shared/data.

FSDD follows its own convention (recording indices 0-4 of every speaker are
the test split). Of the LJ Speech slice the last 35 utterances
(LJ002-0166 ... LJ002-0200) are held out.

    python recipes/first_model/prepare.py --out work/first_model
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from speech2text.data import read_manifest, write_manifest  # noqa: E402
from speech2text.text import normalize_text  # noqa: E402

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
LJ_HELDOUT = 35
SYNTH_DEV = 150


def duration_s(path: Path) -> float:
    info = soundfile.info(str(path))
    return round(info.frames / info.samplerate, 3)


def fsdd_rows(root: Path) -> tuple[list[dict], list[dict]]:
    train, test = [], []
    for path in sorted((root / "recordings").glob("*.flac")):
        digit, speaker, index = path.stem.split("_")
        row = {"audio": str(path), "text": DIGITS[int(digit)], "duration": duration_s(path), "speaker": speaker}
        (test if int(index) < 5 else train).append(row)
    return train, test


def ljspeech_rows(root: Path) -> tuple[list[dict], list[dict]]:
    rows = []
    for line in (root / "metadata.csv").read_text(encoding="utf-8").splitlines():
        utterance_id, _, normalized = line.split("|")
        path = root / "wavs" / f"{utterance_id}.flac"
        rows.append({"audio": str(path), "text": normalize_text(normalized), "duration": duration_s(path), "speaker": "lj"})
    return rows[:-LJ_HELDOUT], rows[-LJ_HELDOUT:]


def split_synthetic_dev(synth: Path) -> None:
    """Move 150 utterances whose sentence is spoken only once out of synth/train.jsonl into a dev set.

    Their text is then unseen in training; the dev set picks the best epoch, so
    that the test sets stay untouched by model selection.
    """
    rows = read_manifest(synth / "train.jsonl")
    counts = collections.Counter(row["text"] for row in rows)
    candidates = [i for i, row in enumerate(rows) if len(row["text"].split()) >= 4 and counts[row["text"]] == 1]
    dev = set(random.Random(1).sample(candidates, SYNTH_DEV))
    write_manifest(synth / "train_only.jsonl", [row for i, row in enumerate(rows) if i not in dev])
    write_manifest(synth / "dev.jsonl", [rows[i] for i in sorted(dev)])
    print(f"synthetic: {len(rows) - len(dev)} train, {len(dev)} dev")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args()
    for corpus, make in (("fsdd", fsdd_rows), ("ljspeech", ljspeech_rows)):
        train, test = make(args.shared / corpus if corpus == "fsdd" else args.shared / "ljspeech-part")
        write_manifest(args.out / f"{corpus}_train.jsonl", train)
        write_manifest(args.out / f"{corpus}_test.jsonl", test)
        hours = sum(r["duration"] for r in train) / 3600
        print(f"{corpus}: {len(train)} train ({hours:.2f} h), {len(test)} test")
    if (args.out / "synth" / "train.jsonl").exists():
        split_synthetic_dev(args.out / "synth")


if __name__ == "__main__":
    main()
