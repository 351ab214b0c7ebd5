"""`speech2text prepare`, `speech2text label`, `speech2text train` and `speech2text evaluate`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..files import write_text_atomically
from .common import (
    DEFAULT_THREADS,
    EXIT_FAILED,
    EXIT_OK,
    add_decoding_arguments,
    add_model_arguments,
    decoding_options,
    error,
    non_negative_int,
    positive_int,
    check_writable,
    refuse_overwriting_input,
    share,
    thread_count,
)

# The keys of corpora.CORPORA, named here so that `--help` need not import torch (tests/test_recipes.py checks them).
CORPUS_NAMES = ("librispeech", "commonvoice", "ljspeech", "fsdd", "speechocean762", "untranscribed")
# Flags of the flag form of `train` -> TrainConfig keys (dotted: nested tables).
TRAIN_FLAGS = {
    "train": "train_manifests", "dev": "dev_manifest", "out": "out_dir", "epochs": "epochs", "max_steps": "max_steps",
    "lr": "lr", "warmup_steps": "warmup_steps", "batch_seconds": "max_batch_s", "rnn_type": "model.rnn_type",
    "hidden_size": "model.hidden_size", "num_layers": "model.num_layers", "conv_channels": "model.conv_channels",
    "subsampling": "model.subsampling", "dropout": "model.dropout", "init_from": "init_from",
    "checkpoint_every": "checkpoint_every_steps", "workers": "num_workers", "threads": "threads", "seed": "seed",
    "patience": "patience", "device": "device",
}


def train_config_values(args) -> dict:
    """The resolved config as a dict: TrainConfig defaults < CONFIG file < flags < KEY=VALUE overrides."""
    from ..train import apply_overrides, read_config_file, set_config_value

    overrides = list(args.overrides)
    config_file = args.config
    # `train --train a.jsonl --out run epochs=3`: with no file, the first override lands in the CONFIG slot.
    if config_file is not None and "=" in str(config_file) and not config_file.is_file():
        overrides.insert(0, str(config_file))
        config_file = None
    values = {"threads": DEFAULT_THREADS}
    if config_file is not None:
        values.update(read_config_file(config_file))
    for flag, key in TRAIN_FLAGS.items():
        if flag in args:
            value = getattr(args, flag)
            if isinstance(value, list):
                value = [str(v) for v in value]
            elif isinstance(value, Path):
                value = str(value)
            set_config_value(values, key, value)
    if getattr(args, "no_augment", False):
        values["augment"] = None
    if getattr(args, "no_amp", False):
        values["amp"] = False
    return apply_overrides(values, overrides)


def cmd_train(args) -> int:
    from ..train import TrainConfig, train

    try:
        values = train_config_values(args)
        for key in ("train_manifests", "out_dir"):
            if key not in values:
                flag = "--train" if key == "train_manifests" else "--out"
                error(f"no {key}: give a CONFIG file that sets it, {key}=..., or {flag}")
                return EXIT_FAILED
        best = train(TrainConfig.from_dict(values))
    except ValueError as e:  # a config value that TrainConfig refuses
        error(str(e))
        return EXIT_FAILED
    if os.environ.get("RANK", "0") == "0":  # under torchrun, once
        print(f"best model: {best}")
    return EXIT_OK


def cmd_prepare(args) -> int:
    from ..corpora import prepare

    options = {"workers": args.workers}
    if args.subsets:
        if args.corpus != "librispeech":
            error("--subsets is for librispeech only")
            return EXIT_FAILED
        options["subsets"] = args.subsets.split(",")
    if args.split_speakers:
        if args.corpus != "librispeech":
            error("--split-speakers is for librispeech only (speechocean762 is always split by speaker)")
            return EXIT_FAILED
        options["split_speakers"] = True
    if args.unseen_speakers:
        if args.corpus != "fsdd":
            error("--unseen-speakers is for fsdd only")
            return EXIT_FAILED
        options["unseen_speakers"] = tuple(args.unseen_speakers.split(","))
    if args.corpus == "ljspeech":
        options |= {"test": args.test_utterances, "dev": args.dev_utterances}
    manifests = prepare(args.corpus, args.source, args.out, **options)
    from ..manifest import read_manifest

    for split, manifest in manifests.items():
        rows = read_manifest(manifest)
        print(f"{split:18s} {len(rows):7d} utterances {sum(r['duration'] for r in rows) / 3600:8.2f} h  {manifest}")
    return EXIT_OK


def cmd_label(args) -> int:
    from ..labels import LABELLER, label_manifest, whisper_labeller

    refuse_overwriting_input(args.out, [args.manifest])
    check_writable(args.out)
    try:
        labeller = whisper_labeller(args.threads)
    except ImportError:
        error("labelling needs whisper tiny.en: pip install 'speech2text[whisper]'")
        return EXIT_FAILED
    written, skipped = label_manifest(args.manifest, args.out, labeller, args.min_confidence)
    print(f"{written} rows labelled by {LABELLER} -> {args.out}; {skipped.summary()}")
    return EXIT_OK if written else EXIT_FAILED


def cmd_evaluate(args) -> int:
    from ..manifest import SkippedRows, read_manifest
    from ..evaluate import evaluate
    from ..transcribe import load_transcriber

    if args.hypotheses:  # before any work: never over a manifest (or the model), and writable
        refuse_overwriting_input(args.hypotheses, [*args.manifest, *([args.model] if args.model else [])])
        check_writable(args.hypotheses)
    skipped = SkippedRows()
    decoding = decoding_options(args)
    transcriber = load_transcriber(args.model, args.runtime, threads=args.threads)
    if decoding.decoder == "lm":
        transcriber.load_language_model(**decoding.lm_options())
    rows = []
    for manifest in args.manifest:
        # Several manifests: each is a subset. One: the rows' own "subset" field, where they have one.
        rows += [row | {"subset": manifest.stem if len(args.manifest) > 1 else str(row.get("subset", manifest.stem))}
                 for row in read_manifest(manifest, skipped)]
    result = evaluate(transcriber, rows, decoder=decoding.decoder, beam_size=decoding.search_beam_size, skipped=skipped)
    if skipped.total:
        print(skipped.summary(), file=sys.stderr)
    print(f"utterances {len(result.rows)}  audio {result.audio_s / 60:.1f} min  WER {100 * result.wer:.2f}%  "
          f"CER {100 * result.cer:.2f}%  exact {100 * result.exact:.2f}%  RTF {result.rtf:.4f}"
          + (f"  skipped {skipped.total}" if skipped.total else ""))
    subsets = [row["subset"] for row in result.rows]
    scores = result.by_subset(subsets)
    if len(scores) > 1:
        print(f"  {'subset':20s} {'utterances':>10s} {'WER':>8s} {'CER':>8s} {'exact':>8s}")
        for subset, score in scores.items():
            print(f"  {subset:20s} {score['utterances']:10d} {100 * score['wer']:7.2f}% {100 * score['cer']:7.2f}% "
                  f"{100 * score['exact']:7.2f}%")
    for wer, row, hypothesis in result.worst(args.worst):
        print(f"  WER {100 * wer:5.1f}%  {Path(row['audio']).name}\n     ref: {row['text']}\n     hyp: {hypothesis}")
    if args.hypotheses:
        records = [{"audio": row["audio"], "subset": subset, "ref": row["text"], "hyp": hypothesis}
                   for row, subset, hypothesis in zip(result.rows, subsets, result.hypotheses)]
        write_text_atomically(args.hypotheses, "".join(json.dumps(record) + "\n" for record in records))
    return EXIT_OK


def add_parsers(sub) -> None:
    p = sub.add_parser("prepare", help="JSON-lines manifests from a public corpus in its released layout")
    p.add_argument("corpus", choices=CORPUS_NAMES)
    p.add_argument("source", type=Path, help="the corpus folder as downloaded and unpacked")
    p.add_argument("--out", type=Path, required=True, help="folder for SPLIT.jsonl manifests")
    p.add_argument("--subsets", help="librispeech: comma-separated subsets to use (default: every one present)")
    p.add_argument("--split-speakers", action="store_true",
                   help="librispeech: pool the subsets and split them by reader into train, dev (2) and test (3)")
    p.add_argument("--unseen-speakers", metavar="A,B",
                   help="fsdd: speakers held out whole, as unseen_dev (recordings 45-49) and unseen_test (0-44)")
    p.add_argument("--test-utterances", type=non_negative_int, default=35, metavar="N",
                   help="ljspeech: the last N utterances of metadata.csv are the test split (default 35)")
    p.add_argument("--dev-utterances", type=non_negative_int, default=25, metavar="N",
                   help="ljspeech: the N before them are dev (default 25)")
    p.add_argument("--workers", type=positive_int, default=8, help="threads reading audio headers")
    p.set_defaults(run=cmd_prepare)

    p = sub.add_parser("label", help="machine labels for untranscribed speech by whisper tiny.en (the whisper extra)")
    p.add_argument("manifest", type=Path, help="a manifest, e.g. from `prepare untranscribed`; its text is ignored")
    p.add_argument("--out", type=Path, required=True, help="the labelled manifest (rows say who labelled them)")
    p.add_argument("--min-confidence", type=share, default=0.0, metavar="P",
                   help="leave out rows whose label's mean token probability is under P (0-1; default 0: keep all)")
    p.add_argument("--threads", type=thread_count, default=DEFAULT_THREADS)
    p.set_defaults(run=cmd_label)

    # The flags default to "not given" (SUPPRESS): a CONFIG file's values must win over flag defaults.
    p = sub.add_parser(
        "train", argument_default=argparse.SUPPRESS,
        help="train a CTC model on JSON-lines manifests (resumes from OUT/last.pt); under torchrun, on every process",
        description="speech2text train CONFIG [KEY=VALUE ...] or speech2text train --train M --out DIR [flags]. "
                    "CONFIG is TOML or JSON with TrainConfig's keys (a run folder's config.json works); "
                    "KEY=VALUE overrides use dotted keys (model.hidden_size=256) and JSON values.")
    p.add_argument("config", nargs="?", type=Path, default=None, help="TOML or JSON config file")
    p.add_argument("overrides", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides, applied last")
    p.add_argument("--train", type=Path, action="append", help="training manifest (repeatable)")
    p.add_argument("--dev", type=Path, help="dev manifest, scored with greedy WER after every epoch")
    p.add_argument("--out", type=Path, help="run folder for checkpoints and metrics")
    p.add_argument("--epochs", type=positive_int, help="default 20")
    p.add_argument("--max-steps", type=positive_int)
    p.add_argument("--lr", type=float, help="peak learning rate, default 2e-3")
    p.add_argument("--warmup-steps", type=positive_int, help="default 300")
    p.add_argument("--batch-seconds", type=float,
                   help="padded audio seconds per batch, all processes together; default 160")
    p.add_argument("--rnn-type", choices=["lstm", "gru", "rnn"])
    p.add_argument("--hidden-size", type=positive_int, help="default 256")
    p.add_argument("--num-layers", type=positive_int, help="default 3")
    p.add_argument("--conv-channels", type=positive_int, help="default 256")
    p.add_argument("--subsampling", type=positive_int, help="default 3")
    p.add_argument("--dropout", type=float, help="default 0.15")
    p.add_argument("--no-augment", action="store_true", help="train without speed/noise/SpecAugment")
    p.add_argument("--init-from", type=Path,
                   help="fine-tune: start from this checkpoint or bundled model (en-small); its model sizes win")
    p.add_argument("--patience", type=positive_int, help="stop after this many dev evaluations without improvement")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default auto: CUDA when there is one")
    p.add_argument("--no-amp", action="store_true", help="on CUDA, train in float32 instead of bfloat16 autocast")
    p.add_argument("--checkpoint-every", type=positive_int, help="steps between checkpoints, default 200")
    p.add_argument("--workers", type=int, help="data loading processes, default 1")
    p.add_argument("--threads", type=thread_count, help=f"default {DEFAULT_THREADS}")
    p.add_argument("--seed", type=int)
    p.set_defaults(run=cmd_train, config=None, overrides=[])

    p = sub.add_parser("evaluate", help="WER/CER and RTF of a model on manifests, per subset")
    add_model_arguments(p)
    p.add_argument("--manifest", type=Path, action="append", required=True,
                   help="JSON-lines manifest (repeatable: each is scored as a subset)")
    p.add_argument("--hypotheses", type=Path, help="write ref/hyp pairs here as JSON lines")
    p.add_argument("--worst", type=int, default=5, help="show this many worst utterances")
    add_decoding_arguments(p)
    p.add_argument("--threads", type=thread_count, default=DEFAULT_THREADS)
    p.set_defaults(run=cmd_evaluate)
