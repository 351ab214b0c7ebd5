"""whisper tiny.en listens to synthetic training speech; what it cannot make out is left out.

    python recipes/default_model/listen.py work/default_model/synth/train.jsonl [--max-wer 0.5]

A text-to-speech engine that mispronounces a word still labels it with the right spelling, and CTC then
learns the wrong letters for that sound (whisper tiny.en mishears one word in ten of plain espeak-ng en-us,
three in four of the recipe's espeak-ng variants through its realism pass, one in thirty or forty of Piper
and Kokoro). For each manifest DIR/NAME.jsonl this writes

  DIR/NAME.heard.jsonl       every utterance's audio, label, what whisper tiny.en heard and the word
                             error rate between them; a killed run keeps what it heard and goes on
  DIR/NAME.understood.jsonl  the manifest's rows whose word error rate is at most --max-wer

and prints, per engine, how many utterances and hours stay. The listener is
speech2text.listener.whisper_tiny_en (the `whisper` extra).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import jiwer
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from speech2text.audio import load_audio  # noqa: E402
from speech2text.errors import Speech2TextError  # noqa: E402
from speech2text.listener import whisper_tiny_en  # noqa: E402
from speech2text.manifest import read_manifest, write_manifest  # noqa: E402


def outputs(manifest: Path) -> tuple[Path, Path]:
    stem = manifest.name.removesuffix(".jsonl")
    return manifest.with_name(f"{stem}.heard.jsonl"), manifest.with_name(f"{stem}.understood.jsonl")


def read_heard(path: Path) -> dict[tuple[str, str], dict]:
    """What an earlier run heard, by (audio, label); a line cut short by a kill is heard again."""
    heard = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                heard[row["audio"], row["text"]] = row
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return heard


def listen(manifest: Path, hear, max_wer: float) -> list[dict]:
    heard_path, understood_path = outputs(manifest)
    rows = read_manifest(manifest)
    heard = read_heard(heard_path)
    with open(heard_path, "a", encoding="utf-8") as log:
        for row in tqdm(rows, desc=f"listen {manifest}", unit="utt"):
            if (row["audio"], row["text"]) in heard:
                continue
            try:
                text = hear(row["audio"])
            except Speech2TextError as error:  # an unreadable file is not heard, so it is left out
                print(f"listen.py: {row['audio']}: {error}", file=sys.stderr)
                text = ""
            result = {"audio": row["audio"], "text": row["text"], "heard": text,
                      "wer": round(jiwer.wer(row["text"], text), 4) if text else 1.0}
            heard[row["audio"], row["text"]] = result
            log.write(json.dumps(result) + "\n")
            log.flush()
    for row in rows:
        row["listener_wer"] = heard[row["audio"], row["text"]]["wer"]
    partial = understood_path.with_suffix(".partial")
    write_manifest(partial, [row for row in rows if row["listener_wer"] <= max_wer])
    partial.rename(understood_path)
    return rows


def report(manifest: Path, rows: list[dict], max_wer: float) -> None:
    total, kept, hours, kept_hours = Counter(), Counter(), Counter(), Counter()
    for row in rows:
        engine = row.get("voice", {}).get("engine", "?") if isinstance(row.get("voice"), dict) else "?"
        total[engine] += 1
        hours[engine] += row["duration"] / 3600
        if row["listener_wer"] <= max_wer:
            kept[engine] += 1
            kept_hours[engine] += row["duration"] / 3600
    print(f"{manifest}: kept {sum(kept.values())} of {len(rows)} utterances "
          f"({sum(kept_hours.values()):.2f} of {sum(hours.values()):.2f} h) at listener WER <= {max_wer}")
    for engine in sorted(total):
        print(f"  {engine:10s} kept {kept[engine]:5d} of {total[engine]:5d}  "
              f"({kept_hours[engine]:.2f} of {hours[engine]:.2f} h)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifests", nargs="+", type=Path)
    parser.add_argument("--max-wer", type=float, default=0.5, help="keep utterances heard at most this wrong")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    own = [m for m in args.manifests if m.name.endswith((".heard.jsonl", ".understood.jsonl"))]
    for manifest in own:
        print(f"listen.py: error: {manifest} is this script's own output", file=sys.stderr)
    failed = len(own)
    manifests = [m for m in args.manifests if m not in own]
    if manifests:  # the listener loads only when there is something to hear
        whisper = whisper_tiny_en(args.threads)

    def hear(audio: str) -> str:
        return whisper(load_audio(audio))

    for manifest in manifests:
        try:
            report(manifest, listen(manifest, hear, args.max_wer), args.max_wer)
        except Speech2TextError as error:
            print(f"listen.py: error: {error}", file=sys.stderr)
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
