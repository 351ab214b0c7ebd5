"""What every subcommand shares: exit codes, the error line, argument types."""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
import tempfile
from pathlib import Path

from ..errors import UsageError, describe_os_error
from ..files import refuse_overwriting_input  # noqa: F401 - the subcommands' one rule, from here

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# A small LSTM gains little past 4 threads, and more would crowd out the rest of a laptop.
DEFAULT_THREADS = min(4, os.cpu_count() or 1)


def error(message: str) -> None:
    print(f"speech2text: error: {message}", file=sys.stderr)


def os_error(e: OSError) -> None:
    error(describe_os_error(e))


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


# More threads than this only queue up (and --threads 100000 once hung torch's thread pool).
MAX_THREADS = max(64, 4 * (os.cpu_count() or 1))


def thread_count(text: str) -> int:
    value = positive_int(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_THREADS}, not {value}")
    return value


def finite_float(text: str) -> float:
    """A float flag: nan and inf are refused (an LM weight of nan silently empties every transcript)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, not {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text!r}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text!r}")
    return value


def share(text: str) -> float:
    """A fraction from 0 to 1."""
    value = finite_float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text!r}")
    return value


def float_list(text: str) -> list[float]:
    try:
        return [finite_float(item) for item in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected finite numbers separated by commas, not {text!r}") from None


def read_words(path: Path) -> list[str]:
    """The words of a --words file (a closed vocabulary). UsageError when it has none: an empty vocabulary
    would make every transcript empty, silently."""
    try:
        words = path.read_text(encoding="utf-8").split()
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a text file of words") from None
    if not words:
        raise UsageError(f"{path}: no words in the --words file")
    return words


def check_writable(output: Path, folder: bool = False) -> None:
    """Before any work: make `output`'s folder (or `output` itself, a folder) and prove a file can be created in
    it. Raises OSError naming `output`, so that an unwritable output is reported at once, not after the work."""
    output = Path(output)
    target = output if folder else output.parent
    try:
        if not folder and output.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file")
        blocking = next((p for p in (target, *target.parents) if p.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{blocking} is a file, not a folder")
        target.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(dir=target, prefix=".speech2text-probe-")
        os.close(descriptor)
        os.unlink(probe)
    except OSError as e:
        raise OSError(e.errno, e.strerror or str(e), str(output)) from None


def hotword(text: str) -> tuple[str, float]:
    """'turn on the kitchen lights:5' -> ('turn on the kitchen lights', 5.0); the bonus defaults to 10."""
    from ..text import normalize_text

    phrase, _, bonus = text.rpartition(":") if ":" in text else (text, "", "10")
    try:
        value = finite_float(bonus)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected PHRASE or PHRASE:BONUS with a finite BONUS, not {text!r}") from None
    if not normalize_text(phrase):
        raise argparse.ArgumentTypeError(f"the hotword {text!r} has no words")
    return normalize_text(phrase), value


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model and --runtime, as `transcribe` and `serve` take them."""
    parser.add_argument("--model", help="bundled model name, checkpoint path or exported .onnx file "
                                        "(default: the bundled English model)")
    parser.add_argument("--runtime", choices=["auto", "onnx", "torch"], default="auto",
                        help="run the acoustic model on ONNX Runtime without torch (about 1/5 of the memory, faster "
                             "start) or on PyTorch; auto: onnx where the model has a current .onnx export and "
                             "onnxruntime is installed, unless --quantize needs PyTorch (default)")


def add_decoding_arguments(parser: argparse.ArgumentParser, decoders: tuple[str, ...] = ("greedy", "beam", "lm")) -> None:
    """The flags of decoding.DecodingOptions, one per field; decoding_options(args) reads them back."""
    from ..decoding import DEFAULT_BEAM_SIZE
    from ..lm import LM_WEIGHT, WORD_SCORE

    parser.add_argument("--decoder", choices=decoders, default="lm",
                        help="beam search with a word n-gram LM, the bundled one unless --lm (default); prefix beam "
                             "search without an LM; or the greedy best path")
    parser.add_argument("--beam-size", type=positive_int,
                        help=f"beam width (default: {DEFAULT_BEAM_SIZE['beam']} for beam, {DEFAULT_BEAM_SIZE['lm']} for lm)")
    parser.add_argument("--lm", type=Path, help="ARPA n-gram model from `speech2text lm build`: words (lexicon "
                                                "search) or --units chars (lexicon-free search); implies --decoder lm")
    parser.add_argument("--lm-weight", type=finite_float, default=LM_WEIGHT,
                        help=f"LM score weight (default: {LM_WEIGHT})")
    parser.add_argument("--word-score", type=finite_float, default=WORD_SCORE,
                        help=f"score added per word (default: {WORD_SCORE})")
    parser.add_argument("--words", type=Path, help="closed vocabulary: a file of allowed words or phrases (command "
                                                   "sets); implies --decoder lm")
    parser.add_argument("--hotword", type=hotword, action="append", default=[], metavar="PHRASE[:BONUS]",
                        help="boost a word or phrase, e.g. 'turn on the kitchen lights:5' (repeatable; implies "
                             "--decoder lm)")


def decoding_options(args):
    """The DecodingOptions of add_decoding_arguments' flags (reads the --words file)."""
    from ..decoding import DecodingOptions

    return DecodingOptions(
        decoder=args.decoder, beam_size=args.beam_size, lm=str(args.lm) if args.lm else None,
        lm_weight=args.lm_weight, word_score=args.word_score, hotwords=tuple(args.hotword),
        words=tuple(read_words(args.words)) if args.words else None,
    )
