"""The default decoder against the peers it must beat for speed: WER and RTF of speech2text greedy, its LM
decoder at today's settings and at those of release 0.1 (beam 1024, LM weight 2.0, word score 0),
PocketSphinx 5 and whisper tiny.en, on the same real files, one file at a time, in one run.

    .venv/bin/python benchmarks/default_decoder.py [--manifest M] [--threads 2]

speech2text runs as `speech2text transcribe` does (load_transcriber: the ONNX export on ONNX Runtime),
file by file; RTF = compute seconds / audio seconds, model and LM loads and audio reading excluded, for
every system alike. The peers are timed here, not taken from accuracy.py's cache, so that every RTF
comes from this run on this machine. With no manifest, the recipe's dev set (real speakers never
trained on: recipes/default_model/run.sh stage 4). Prints a markdown table and writes
benchmarks/results/default_decoder.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from accuracy import pocketsphinx, whisper_tiny  # noqa: E402
from speech2text.decoding import DEFAULT_BEAM_SIZE  # noqa: E402
from speech2text.evaluate import evaluate  # noqa: E402
from speech2text.lm import LM_WEIGHT, WORD_SCORE  # noqa: E402
from speech2text.manifest import read_manifest  # noqa: E402
from speech2text.transcribe import load_transcriber  # noqa: E402

DEV = ROOT / "work" / "default_model" / "dev.jsonl"
WHISPER = "whisper tiny.en (faster-whisper int8, greedy)"
RELEASE_0_1 = {"beam_size": 1024, "lm_weight": 2.0, "word_score": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=DEV)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not args.manifest.is_file():
        sys.exit(f"no manifest {args.manifest}: run recipes/default_model/run.sh --stop-stage 4, or give --manifest")
    rows = read_manifest(args.manifest)
    minutes = sum(row["duration"] for row in rows) / 60

    def ours(decoder: str, **lm_options) -> dict:
        transcriber = load_transcriber(threads=args.threads)
        if decoder == "lm":
            transcriber.load_language_model(**lm_options)
        result = evaluate(transcriber, rows, batch_size=1, decoder=decoder)
        return {"wer": result.wer, "cer": result.cer, "rtf": result.rtf}

    today = {"beam_size": DEFAULT_BEAM_SIZE["lm"], "lm_weight": LM_WEIGHT, "word_score": WORD_SCORE}
    results = {
        "speech2text greedy": ours("greedy"),
        "speech2text default: LM, beam {beam_size}, weight {lm_weight:g}, word score {word_score:g}".format(**today):
            ours("lm", **today),
        "speech2text release 0.1 default: LM, beam {beam_size}, weight {lm_weight:g}, word score {word_score:g}"
        .format(**RELEASE_0_1): ours("lm", **RELEASE_0_1),
        "PocketSphinx 5": pocketsphinx(rows),
        WHISPER: whisper_tiny(rows, args.threads),
    }
    whisper_rtf = results[WHISPER]["rtf"]
    print(f"\n{args.manifest}: {len(rows)} utterances, {minutes:.1f} min, one file at a time, {args.threads} threads\n")
    print("| system | WER | CER | RTF | RTF / whisper tiny.en's |\n|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {100 * r['wer']:.2f}% | {100 * r['cer']:.2f}% | {r['rtf']:.4f} | "
              f"{r['rtf'] / whisper_rtf:.2f} |")
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "default_decoder.json").write_text(json.dumps(
        {"manifest": str(args.manifest), "utterances": len(rows), "minutes": minutes, "threads": args.threads,
         "results": results}, indent=2))


if __name__ == "__main__":
    main()
