"""`speech2text train` and `speech2text evaluate`."""

from __future__ import annotations

import json
from pathlib import Path

from ..lm import LM_WEIGHT, WORD_SCORE
from .common import DEFAULT_THREADS, EXIT_FAILED, EXIT_OK, error, positive_int


def cmd_train(args) -> int:
    from ..augment import AugmentConfig
    from ..checkpoint import CheckpointError
    from ..data import ManifestError
    from ..model import ModelConfig
    from ..train import TrainConfig, train

    try:
        model = ModelConfig(rnn_type=args.rnn_type, hidden_size=args.hidden_size, num_layers=args.num_layers,
                            subsampling=args.subsampling, conv_channels=args.conv_channels, dropout=args.dropout)
        config = TrainConfig(
            train_manifests=tuple(str(m) for m in args.train), dev_manifest=str(args.dev) if args.dev else None,
            out_dir=str(args.out), model=model, augment=None if args.no_augment else AugmentConfig(),
            epochs=args.epochs, max_steps=args.max_steps, lr=args.lr, max_batch_s=args.batch_seconds,
            warmup_steps=args.warmup_steps, threads=args.threads, seed=args.seed,
            checkpoint_every_steps=args.checkpoint_every, num_workers=args.workers,
            init_from=str(args.init_from) if args.init_from else None,
        )
        best = train(config)
    except (ManifestError, CheckpointError, ValueError) as e:
        error(str(e))
        return EXIT_FAILED
    print(f"best model: {best}")
    return EXIT_OK


def cmd_evaluate(args) -> int:
    import torch

    from ..checkpoint import CheckpointError
    from ..data import ManifestError, read_manifest
    from ..evaluate import evaluate
    from ..lm import LanguageModelError
    from ..transcribe import Transcriber

    torch.set_num_threads(args.threads)
    try:
        transcriber = Transcriber.from_pretrained(args.model)
        if args.decoder == "lm" or args.lm:
            args.decoder = "lm"
            transcriber.load_language_model(args.lm, lm_weight=args.lm_weight, word_score=args.word_score)
        rows = read_manifest(args.manifest)
        result = evaluate(transcriber, rows, decoder=args.decoder)
    except (CheckpointError, ManifestError, LanguageModelError) as e:
        error(str(e))
        return EXIT_FAILED
    print(f"utterances {len(rows)}  audio {result.audio_s / 60:.1f} min  "
          f"WER {100 * result.wer:.2f}%  CER {100 * result.cer:.2f}%  RTF {result.rtf:.4f}")
    for wer, row, hypothesis in result.worst(rows, args.worst):
        print(f"  WER {100 * wer:5.1f}%  {Path(row['audio']).name}\n     ref: {row['text']}\n     hyp: {hypothesis}")
    if args.hypotheses:
        with open(args.hypotheses, "w") as f:
            for row, hypothesis in zip(rows, result.hypotheses):
                f.write(json.dumps({"audio": row["audio"], "ref": row["text"], "hyp": hypothesis}) + "\n")
    return EXIT_OK


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train a CTC model on JSON-lines manifests (resumes from OUT/last.pt)")
    p.add_argument("--train", type=Path, action="append", required=True, help="training manifest (repeatable)")
    p.add_argument("--dev", type=Path, help="dev manifest, scored with greedy WER after every epoch")
    p.add_argument("--out", type=Path, required=True, help="run folder for checkpoints and metrics")
    p.add_argument("--epochs", type=positive_int, default=20)
    p.add_argument("--max-steps", type=positive_int)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup-steps", type=positive_int, default=300)
    p.add_argument("--batch-seconds", type=float, default=160.0, help="padded audio seconds per batch")
    p.add_argument("--rnn-type", choices=["lstm", "gru", "rnn"], default="lstm")
    p.add_argument("--hidden-size", type=positive_int, default=192)
    p.add_argument("--num-layers", type=positive_int, default=3)
    p.add_argument("--conv-channels", type=positive_int, default=256)
    p.add_argument("--subsampling", type=positive_int, default=3)
    p.add_argument("--dropout", type=float, default=0.15)
    p.add_argument("--no-augment", action="store_true", help="train without speed/noise/SpecAugment")
    p.add_argument("--init-from", type=Path, help="fine-tune: start from this checkpoint (its model sizes win)")
    p.add_argument("--checkpoint-every", type=positive_int, default=200, help="steps between checkpoints")
    p.add_argument("--workers", type=int, default=1, help="data loading processes")
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("evaluate", help="WER/CER and RTF of a model on a manifest")
    p.add_argument("--model", help="bundled model name or checkpoint path")
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--hypotheses", type=Path, help="write ref/hyp pairs here as JSON lines")
    p.add_argument("--worst", type=int, default=5, help="show this many worst utterances")
    p.add_argument("--decoder", choices=["greedy", "beam", "lm"], default="lm")
    p.add_argument("--lm", type=Path, help="ARPA word n-gram model; implies --decoder lm (default LM: the bundled one)")
    p.add_argument("--lm-weight", type=float, default=LM_WEIGHT)
    p.add_argument("--word-score", type=float, default=WORD_SCORE)
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS)
    p.set_defaults(run=cmd_evaluate)
