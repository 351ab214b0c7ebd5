"""`speech2text lm build` and `speech2text lm tune`."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from ..files import read_input_bytes
from .common import (
    DEFAULT_THREADS,
    EXIT_FAILED,
    EXIT_OK,
    add_model_arguments,
    check_writable,
    error,
    float_list,
    positive_int,
    refuse_overwriting_input,
    thread_count,
)


def cmd_lm_build(args) -> int:
    from ..manifest import read_manifest
    from ..lm import (
        DEFAULT_ORDER,
        KENLM_MAX_ORDER,
        as_characters,
        estimate,
        sentences_from_text,
        without_held_out,
    )
    from ..text import normalize_text

    if args.order and args.order > KENLM_MAX_ORDER:
        error(f"--order {args.order}: the beam search's KenLM reads at most {KENLM_MAX_ORDER}-grams")
        return EXIT_FAILED
    excluded = set()
    try:
        refuse_overwriting_input(args.output, [*args.text, *args.exclude])
        check_writable(args.output)
        for manifest in args.exclude:
            excluded |= {normalize_text(row["text"]) for row in read_manifest(manifest)}
        sentences, unusable = [], 0
        for path in args.text:
            try:
                data = read_input_bytes(path)
            except InputError as e:  # stdin or a device past its bound: this file is left out, not the others
                error(f"{path}: {e}; left out")
                unusable += 1
                continue
            # A binary file would become an LM of junk "words"; text with a few bad bytes is still text.
            if b"\0" in data or data.decode("utf-8", errors="replace").count("\ufffd") > len(data) // 100:
                error(f"{path}: not a text file (binary data); left out")
                unusable += 1
                continue
            sentences += sentences_from_text(data.decode("utf-8", errors="replace"))
        if not sentences:
            raise ValueError("no sentences to build a language model from")
        sentences, dropped = without_held_out(sentences, excluded)
        units = sentences if args.units == "words" else list(as_characters(sentences))
        model = estimate(units, order=args.order or DEFAULT_ORDER[args.units], prune_singletons=args.prune)
        model.write_arpa(args.output)
    except ValueError as e:  # the text had nothing to learn from
        error(str(e))
        return EXIT_FAILED
    sizes = ", ".join(f"{len(table):,} {n}-grams" for n, table in enumerate(model.log_probs, 1))
    words = sum(map(len, sentences))
    print(f"wrote {args.output}: {sizes} from {len(sentences):,} sentences ({words:,} words), "
          f"{dropped:,} overlapping {len(excluded):,} held-out sentences left out, {args.output.stat().st_size / 1e6:.1f} MB")
    return EXIT_FAILED if unusable else EXIT_OK


def cmd_lm_tune(args) -> int:
    from ..manifest import SkippedRows, read_manifest
    from ..evaluate import tune_language_model
    from ..bundled import bundled_language_model
    from ..transcribe import load_transcriber

    skipped = SkippedRows()
    transcriber = load_transcriber(args.model, args.runtime, threads=args.threads)
    rows = read_manifest(args.manifest, skipped)
    lm_path = args.lm or bundled_language_model()
    results = tune_language_model(transcriber, rows, str(lm_path), args.lm_weights, args.word_scores,
                                  beam_size=args.beam_size, skipped=skipped)
    if skipped.total:
        print(skipped.summary(), file=sys.stderr)
    print("| lm_weight | word_score | WER | CER | search s |\n|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['lm_weight']:g} | {r['word_score']:g} | {100 * r['wer']:.2f}% | {100 * r['cer']:.2f}% | {r['search_s']:.1f} |")
    best = results[0]
    print(f"best: --lm-weight {best['lm_weight']:g} --word-score {best['word_score']:g}")
    return EXIT_OK


def add_parsers(sub) -> None:
    from ..decoding import DEFAULT_BEAM_SIZE

    p = sub.add_parser("lm", help="word n-gram language models for beam search")
    lm = p.add_subparsers(dest="lm_command", required=True)
    p = lm.add_parser("build", help="estimate a modified Kneser-Ney n-gram model from text, as ARPA")
    p.add_argument("text", nargs="+", help="plain text files (normalized here: case, punctuation, numbers)")
    p.add_argument("-o", "--output", type=Path, required=True, help="the .arpa file to write")
    p.add_argument("--order", type=positive_int, help="n-gram order (default: 3 for words, 6 for chars)")
    p.add_argument("--units", choices=["words", "chars"], default="words",
                   help="model words (lexicon beam search) or characters with | between words (lexicon-free beam "
                        "search: any spelling can come out); `transcribe --lm` tells them apart by the file")
    p.add_argument("--prune", action="store_true", help="drop highest-order n-grams seen once (smaller model)")
    p.add_argument("--exclude", action="append", default=[], metavar="MANIFEST",
                   help="leave out sentences that a test manifest holds (repeatable), so scores stay honest")
    p.set_defaults(run=cmd_lm_build)

    p = lm.add_parser("tune", help="grid-search --lm-weight and --word-score on a dev manifest")
    p.add_argument("--manifest", type=Path, required=True, help="dev manifest (JSON lines), never the test set")
    add_model_arguments(p)
    p.add_argument("--lm", type=Path, help="ARPA file (default: the bundled LM)")
    p.add_argument("--lm-weights", type=float_list, default=[0.5, 0.8, 1.2, 1.6, 2.0, 2.5])
    p.add_argument("--word-scores", type=float_list, default=[-1.0, 0.0, 1.0, 2.0])
    p.add_argument("--beam-size", type=positive_int, default=DEFAULT_BEAM_SIZE["lm"],
                   help="the search's beam width: tune at the width you decode with (default: %(default)s)")
    p.add_argument("--threads", type=thread_count, default=DEFAULT_THREADS)
    p.set_defaults(run=cmd_lm_tune)
