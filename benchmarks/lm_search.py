"""How wide the LM search must be: WER and time of the LM beam search at several beam widths, side by side
with greedy decoding, on one manifest, in one run.

    .venv/bin/python benchmarks/lm_search.py [--manifest M] [--model M] [--lm ARPA] [--beams 1024,256,64]

The acoustic model runs once (its time is the "acoustic" row); each width re-runs only the search, with
the LM weight and word score the decoder uses by default unless --lm-weight / --word-score are given.
RTF = seconds / audio seconds at --threads. With no manifest, the recipe's dev set (real speakers never
trained on: recipes/default_model/run.sh stage 4). Prints a markdown table and writes
benchmarks/results/lm_search.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.audio import load_audio  # noqa: E402
from speech2text.bundled import bundled_language_model  # noqa: E402
from speech2text.decoding import LanguageModelDecoder, greedy_decode  # noqa: E402
from speech2text.lm import LM_WEIGHT, WORD_SCORE  # noqa: E402
from speech2text.manifest import read_manifest  # noqa: E402
from speech2text.metrics import error_rates  # noqa: E402
from speech2text.transcribe import Transcriber  # noqa: E402

DEV = ROOT / "work" / "default_model" / "dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=DEV)
    parser.add_argument("--model", help="checkpoint (default: the bundled model)")
    parser.add_argument("--lm", help="ARPA file (default: the bundled LM)")
    parser.add_argument("--beams", default="1024,512,256,128,64,32")
    parser.add_argument("--lm-weight", type=float, default=LM_WEIGHT)
    parser.add_argument("--word-score", type=float, default=WORD_SCORE)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not args.manifest.is_file():
        sys.exit(f"no manifest {args.manifest}: run recipes/default_model/run.sh --stop-stage 4, or give --manifest")
    torch.set_num_threads(args.threads)
    transcriber = Transcriber.from_pretrained(args.model)
    rows = read_manifest(args.manifest)
    audio_s = sum(row["duration"] for row in rows)
    references = [row["text"] for row in rows]

    started = time.perf_counter()
    emissions = []
    for start in range(0, len(rows), 16):
        emissions.append(transcriber.log_probs([load_audio(row["audio"]) for row in rows[start:start + 16]]))
    acoustic_s = time.perf_counter() - started

    def search(decode) -> dict:
        decode(*emissions[0])  # warm-up: whatever a decoder builds on its first call is not search time
        started = time.perf_counter()
        hypotheses = [t.text for log_probs, lengths in emissions for t in decode(log_probs, lengths)]
        seconds = time.perf_counter() - started
        return {**error_rates(references, hypotheses), "search_rtf": seconds / audio_s}

    results = {"greedy": search(lambda log_probs, lengths: greedy_decode(
        log_probs, lengths, transcriber.vocabulary, transcriber.frame_shift_s))}
    lm = args.lm or str(bundled_language_model())
    for beam in map(int, args.beams.split(",")):
        decoder = LanguageModelDecoder(transcriber.vocabulary, lm, beam_size=beam, lm_weight=args.lm_weight,
                                       word_score=args.word_score)
        results[f"LM, beam {beam}"] = search(lambda log_probs, lengths: decoder(
            log_probs, lengths, transcriber.frame_shift_s))

    print(f"{args.manifest}: {len(rows)} utterances, {audio_s / 60:.1f} min; acoustic model RTF "
          f"{acoustic_s / audio_s:.4f}; LM weight {args.lm_weight:g}, word score {args.word_score:g}; "
          f"{args.threads} threads\n")
    print("| decoder | WER | CER | search RTF | total RTF |\n|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {100 * r['wer']:.2f}% | {100 * r['cer']:.2f}% | {r['search_rtf']:.4f} | "
              f"{r['search_rtf'] + acoustic_s / audio_s:.4f} |")
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "lm_search.json").write_text(json.dumps(
        {"manifest": str(args.manifest), "utterances": len(rows), "audio_s": audio_s,
         "acoustic_rtf": acoustic_s / audio_s, "lm_weight": args.lm_weight, "word_score": args.word_score,
         "threads": args.threads, "results": results}, indent=2))


if __name__ == "__main__":
    main()
