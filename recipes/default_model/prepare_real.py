"""Manifests of the real speech in ../shared/data, split so that some speakers are never trained on.

- FSDD: the speakers named by --unseen-speakers (default theo and yweweler) are
  held out whole: their recordings 45-49 are fsdd_unseen_dev.jsonl (for choosing
  checkpoints), 0-44 fsdd_unseen_speakers.jsonl (a test set). The other four follow
  the dataset's own convention: recording indices 0-4 are fsdd_test.jsonl, the
  rest fsdd_train.jsonl.
- LJ Speech slice: the last 35 utterances (LJ002-0166 ... LJ002-0200) are
  ljspeech_test.jsonl, the 25 before them ljspeech_dev.jsonl, the rest
  ljspeech_train.jsonl (one speaker: this tests unseen text, not an unseen voice).

    python recipes/default_model/prepare_real.py --out work/default_model
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from speech2text.manifest import write_manifest  # noqa: E402
from speech2text.text import normalize_text  # noqa: E402

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
LJ_HELDOUT = 35
LJ_DEV = 25
FSDD_UNSEEN_DEV = range(45, 50)


def row(path: Path, text: str, speaker: str) -> dict:
    info = soundfile.info(str(path))
    return {"audio": str(path), "text": text, "duration": round(info.frames / info.samplerate, 3), "speaker": speaker}


def fsdd_splits(root: Path, unseen: set[str]) -> dict[str, list[dict]]:
    splits = {"fsdd_train": [], "fsdd_test": [], "fsdd_unseen_dev": [], "fsdd_unseen_speakers": []}
    for path in sorted((root / "recordings").glob("*.flac")):
        digit, speaker, index = path.stem.split("_")
        if speaker in unseen:
            name = "fsdd_unseen_dev" if int(index) in FSDD_UNSEEN_DEV else "fsdd_unseen_speakers"
        else:
            name = "fsdd_test" if int(index) < 5 else "fsdd_train"
        splits[name].append(row(path, DIGITS[int(digit)], speaker))
    return splits


def ljspeech_splits(root: Path) -> dict[str, list[dict]]:
    rows = []
    for line in (root / "metadata.csv").read_text(encoding="utf-8").splitlines():
        utterance_id, _, normalized = line.split("|")
        rows.append(row(root / "wavs" / f"{utterance_id}.flac", normalize_text(normalized), "lj"))
    test_start, dev_start = len(rows) - LJ_HELDOUT, len(rows) - LJ_HELDOUT - LJ_DEV
    return {"ljspeech_train": rows[:dev_start], "ljspeech_dev": rows[dev_start:test_start],
            "ljspeech_test": rows[test_start:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--unseen-speakers", default="theo,yweweler")
    args = parser.parse_args()
    splits = fsdd_splits(args.shared / "fsdd", set(args.unseen_speakers.split(","))) | ljspeech_splits(
        args.shared / "ljspeech-part"
    )
    for name, rows in splits.items():
        write_manifest(args.out / f"{name}.jsonl", rows)
        speakers = sorted({r["speaker"] for r in rows})
        print(
            f"{name}: {len(rows)} utterances, {sum(r['duration'] for r in rows) / 3600:.2f} h, speakers {', '.join(speakers)}"
        )


if __name__ == "__main__":
    main()
