"""The `speech2text` command: each subcommand is a thin shell over a Python function.

Heavy modules (torch, the model) are imported inside the subcommands, so
`speech2text --help` answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .lm import LM_WEIGHT, WORD_SCORE

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# A small LSTM gains little past 4 threads, and more would crowd out the rest of a laptop.
DEFAULT_THREADS = min(4, os.cpu_count() or 1)


def error(message: str) -> None:
    print(f"speech2text: error: {message}", file=sys.stderr)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def float_list(text: str) -> list[float]:
    try:
        return [float(item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, not {text!r}") from None


def draw_plot(transcriber, path: str, transcript, png: Path) -> None:
    from .audio import AudioError, load_audio
    from .plot import MAX_PLOT_S, plot_alignment

    samples = load_audio(path)
    if len(samples) > MAX_PLOT_S * 16000:
        raise AudioError(f"too long for --plot ({len(samples) / 16000:.0f} s; at most {MAX_PLOT_S:.0f} s)")
    plot_alignment(transcriber, samples, transcript, png)
    print(f"{path}: alignment plot -> {png}", file=sys.stderr)


def hotword(text: str) -> tuple[str, float]:
    """'turn on the kitchen lights:5' -> ('turn on the kitchen lights', 5.0); the bonus defaults to 10."""
    from .text import normalize_text

    phrase, _, bonus = text.rpartition(":") if ":" in text else (text, "", "10")
    try:
        value = float(bonus)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected PHRASE or PHRASE:BONUS, not {text!r}") from None
    if not normalize_text(phrase):
        raise argparse.ArgumentTypeError(f"the hotword {text!r} has no words")
    return normalize_text(phrase), value


def _return_big_buffers_to_the_system() -> None:
    """Serve every allocation of 1 MB or more with mmap, so freeing it returns it to the OS.

    glibc raises its mmap threshold after large blocks are freed, and later window-sized
    tensors then come from a heap that fragments: peak memory crept up with file length
    (777 MB after 10 min of audio against 705 MB with this; benchmarks/footprint.py).
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def cmd_transcribe(args) -> int:
    import torch

    _return_big_buffers_to_the_system()
    from .audio import AudioError
    from .checkpoint import CheckpointError
    from .formats import render
    from .lm import LanguageModelError
    from .transcribe import Transcriber

    torch.set_num_threads(args.threads)
    if sum(1 for f in args.files if f == "-") > 1:
        error("stdin (-) can be read only once")
        return EXIT_USAGE
    if args.plot and (len(args.files) != 1 or args.files[0] == "-"):
        error("--plot draws one file: name exactly one audio file")
        return EXIT_USAGE
    if args.lm or args.words or args.hotword:
        args.decoder = "lm"
    beam_size = args.beam_size or (32 if args.decoder == "lm" else 8)
    try:
        transcriber = Transcriber.from_pretrained(args.model, quantize=args.quantize)
        if args.decoder == "lm":
            words = args.words.read_text().split() if args.words else None
            transcriber.load_language_model(
                args.lm, words=words, beam_size=beam_size, lm_weight=args.lm_weight, word_score=args.word_score, nbest=5,
                hotwords=args.hotword,
            )
    except (CheckpointError, LanguageModelError) as e:
        error(str(e))
        return EXIT_FAILED
    except OSError as e:
        error(f"{e.filename}: {e.strerror}")
        return EXIT_FAILED
    if args.output_dir:
        try:
            args.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            error(f"{args.output_dir}: cannot create the output folder ({e.strerror or e})")
            return EXIT_FAILED
    from tqdm import tqdm

    failed = 0
    json_records = []
    # Progress bars on a terminal only, so that pipes and logs stay clean: one over the files
    # of a batch, or one over the audio seconds of a single long file.
    show_progress = len(args.files) < 3 and sys.stderr.isatty()
    for path in tqdm(args.files, desc="transcribe", unit="file", disable=len(args.files) < 3 or not sys.stderr.isatty()):
        name = "<stdin>" if path == "-" else path
        try:
            transcript = transcriber.transcribe(
                path, decoder=args.decoder, beam_size=beam_size, reject_silence=True, progress=show_progress
            )
            if args.plot:
                draw_plot(transcriber, path, transcript, args.plot)
            if args.output_dir:
                stem = "stdin" if path == "-" else Path(path).stem
                out = args.output_dir / f"{stem}.{args.format}"
                out.write_text(render(name, transcript, args.format))
                print(f"{name} -> {out}", file=sys.stderr)
                continue
        except AudioError as e:
            error(f"{name}: {e}")
            failed += 1
            continue
        except OSError as e:
            error(f"{name}: {e.strerror or e}")
            failed += 1
            continue
        if args.format == "json":
            json_records.append({"audio": name, **transcript.to_dict()})
        else:
            print(render(name, transcript, args.format), end="", flush=True)
    if json_records:
        print(json.dumps(json_records[0] if len(args.files) == 1 else json_records, indent=2))
    return EXIT_FAILED if failed else EXIT_OK


def cmd_train(args) -> int:
    from .augment import AugmentConfig
    from .checkpoint import CheckpointError
    from .data import ManifestError
    from .model import ModelConfig
    from .train import TrainConfig, train

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

    from .checkpoint import CheckpointError
    from .data import ManifestError, read_manifest
    from .evaluate import evaluate
    from .lm import LanguageModelError
    from .transcribe import Transcriber

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


def cmd_export(args) -> int:
    from .checkpoint import CheckpointError
    from .export import export
    from .transcribe import Transcriber

    try:
        transcriber = Transcriber.from_pretrained(args.model)
        export(transcriber.model, args.output, args.format)
    except (CheckpointError, OSError) as e:
        error(str(e))
        return EXIT_FAILED
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.1f} MB)")
    return EXIT_OK


def cmd_lm_build(args) -> int:
    from .data import ManifestError, read_manifest
    from .lm import LanguageModelError, estimate, sentences_from_text, without_held_out
    from .text import normalize_text

    excluded = set()
    try:
        for manifest in args.exclude:
            excluded |= {normalize_text(row["text"]) for row in read_manifest(manifest)}
        sentences = []
        for path in args.text:
            sentences += sentences_from_text(Path(path).read_text(errors="replace"))
        sentences, dropped = without_held_out(sentences, excluded)
        model = estimate(sentences, order=args.order, prune_singletons=args.prune)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        model.write_arpa(args.output)
    except (ManifestError, LanguageModelError) as e:
        error(str(e))
        return EXIT_FAILED
    except OSError as e:
        error(f"{e.filename}: {e.strerror}")
        return EXIT_FAILED
    sizes = ", ".join(f"{len(table):,} {n}-grams" for n, table in enumerate(model.log_probs, 1))
    words = sum(map(len, sentences))
    print(f"wrote {args.output}: {sizes} from {len(sentences):,} sentences ({words:,} words), "
          f"{dropped:,} overlapping {len(excluded):,} held-out sentences left out, {args.output.stat().st_size / 1e6:.1f} MB")
    return EXIT_OK


def cmd_lm_tune(args) -> int:
    import torch

    from .checkpoint import CheckpointError
    from .data import ManifestError, read_manifest
    from .evaluate import tune_language_model
    from .lm import LanguageModelError
    from .transcribe import Transcriber, bundled_language_model

    torch.set_num_threads(args.threads)
    try:
        transcriber = Transcriber.from_pretrained(args.model)
        rows = read_manifest(args.manifest)
        lm_path = args.lm or bundled_language_model()
        results = tune_language_model(transcriber, rows, str(lm_path), args.lm_weights, args.word_scores)
    except (CheckpointError, ManifestError, LanguageModelError) as e:
        error(str(e))
        return EXIT_FAILED
    print("| lm_weight | word_score | WER | CER | search s |\n|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['lm_weight']:g} | {r['word_score']:g} | {100 * r['wer']:.2f}% | {100 * r['cer']:.2f}% | {r['search_s']:.1f} |")
    best = results[0]
    print(f"best: --lm-weight {best['lm_weight']:g} --word-score {best['word_score']:g}")
    return EXIT_OK


def cmd_devices(args) -> int:
    from .microphone import MicrophoneError, print_devices

    try:
        print_devices()
    except MicrophoneError as e:
        error(str(e))
        return EXIT_FAILED
    return EXIT_OK


class _Output:
    """Writes stream events: final lines (partials in place on a terminal), or JSON lines."""

    def __init__(self, fmt: str, show_partials: bool, exec_command: list[str] | None):
        self.fmt = fmt
        self.terminal = sys.stdout.isatty()
        self.show_partials = show_partials
        self.exec_command = exec_command
        self.children = []

    def __call__(self, event) -> None:
        if self.fmt == "jsonl":
            if event.type == "final" or self.show_partials:
                record = {k: v for k, v in event.to_dict().items() if event.type == "final" or k != "words"}
                print(json.dumps(record), flush=True)
        elif event.type == "partial":
            if self.terminal and self.show_partials:
                print(f"\r\033[K{event.text}", end="", flush=True)
        else:
            print(f"\r\033[K{event.text}" if self.terminal else event.text, flush=True)
        if event.type == "final" and self.exec_command:
            import subprocess

            # The query is one argument of a real argv, never spliced into a shell string.
            try:
                self.children.append(subprocess.Popen([*self.exec_command, event.text]))
            except OSError as e:
                error(f"--exec {self.exec_command[0]}: {e.strerror or e}")
                self.exec_command = None

    def close(self) -> None:
        for child in self.children:
            child.wait()


def cmd_listen(args) -> int:
    import shlex
    import signal

    import torch

    from .audio import AudioError
    from .checkpoint import CheckpointError
    from .lm import LanguageModelError
    from .microphone import Microphone, MicrophoneError
    from .stream import file_chunks, stream_events
    from .transcribe import Transcriber
    from .vad import VadConfig

    torch.set_num_threads(args.threads)
    try:
        vad = VadConfig(aggressiveness=args.vad_aggressiveness, pre_roll_ms=args.pre_roll_ms,
                        end_silence_ms=args.end_silence_ms, max_utterance_s=args.max_utterance_s)
        exec_command = shlex.split(args.exec) if args.exec else None
    except ValueError as e:
        error(str(e))
        return EXIT_USAGE
    try:
        transcriber = Transcriber.from_pretrained(args.model)
        if args.lm or args.hotword:
            args.decoder = "lm"
        if args.decoder == "lm":
            transcriber.load_language_model(args.lm, hotwords=args.hotword)
        if args.input:
            source = file_chunks(args.input, realtime=not args.fast)
            microphone = None
        else:
            microphone = Microphone(args.device, on_ready=lambda name: print(f"listening on {name}", file=sys.stderr, flush=True))
            source = microphone
    except (CheckpointError, MicrophoneError, LanguageModelError) as e:
        error(str(e))
        return EXIT_FAILED
    except OSError as e:
        error(f"{e.filename}: {e.strerror}" if e.filename else str(e))
        return EXIT_FAILED
    # SIGTERM ends a session like Ctrl-C: the utterance in progress is flushed first.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    output = _Output(args.format, args.partial_interval_ms > 0, exec_command)
    status = EXIT_OK
    try:
        events = stream_events(
            transcriber, source, vad=vad, partial_interval_ms=args.partial_interval_ms, decoder=args.decoder
        )
        for event in events:
            output(event)
    except KeyboardInterrupt:
        pass
    except (MicrophoneError, AudioError) as e:
        error(f"{args.input}: {e}" if args.input else str(e))
        status = EXIT_FAILED
    finally:
        output.close()
        if microphone and microphone.report():
            error(microphone.report())
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speech2text", description="Offline BiLSTM-CTC speech recognition.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("transcribe", help="transcribe audio files (wav, flac, ogg, mp3; - for stdin)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--model", help="bundled model name or checkpoint path (default: the bundled English model)")
    p.add_argument("--format", choices=["txt", "json", "jsonl", "srt", "vtt"], default="txt")
    p.add_argument("--output-dir", type=Path, help="write one FORMAT file per input here instead of stdout")
    p.add_argument("--decoder", choices=["greedy", "beam", "lm"], default="lm",
                   help="beam search with a word n-gram LM, the bundled one unless --lm (default); prefix beam "
                        "search without an LM; or the greedy best path. beam and lm put the n-best list in json")
    p.add_argument("--beam-size", type=positive_int, help="beam width (default: 8 for beam, 32 for lm)")
    p.add_argument("--lm", type=Path, help="ARPA word n-gram model (from `speech2text lm build`); implies --decoder lm")
    p.add_argument("--lm-weight", type=float, default=LM_WEIGHT, help=f"LM score weight (default: {LM_WEIGHT})")
    p.add_argument("--word-score", type=float, default=WORD_SCORE, help=f"score added per word (default: {WORD_SCORE})")
    p.add_argument("--words", type=Path, help="closed vocabulary: a file of allowed words or phrases (command sets); "
                                              "implies --decoder lm")
    p.add_argument("--hotword", type=hotword, action="append", metavar="PHRASE[:BONUS]",
                   help="boost a word or phrase, e.g. 'turn on the kitchen lights:5' (repeatable; implies --decoder lm)")
    p.add_argument("--plot", type=Path, metavar="PNG",
                   help="draw waveform, log-mel, CTC posteriors and word boundaries of the one input file")
    p.add_argument("--quantize", choices=["int8"], help="dynamic int8 quantization of the LSTM and linear layers")
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS, help=f"CPU threads (default: {DEFAULT_THREADS})")
    p.set_defaults(run=cmd_transcribe)

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

    p = sub.add_parser("listen", help="live dictation: one line per spoken utterance (microphone or --input FILE)")
    p.add_argument("--device", help="input device index or part of its name (default: the system default)")
    p.add_argument("--input", help="read this audio file as if it were a microphone, at real-time pace")
    p.add_argument("--fast", action="store_true", help="with --input: do not wait for real time")
    p.add_argument("--format", choices=["txt", "jsonl"], default="txt")
    p.add_argument("--exec", metavar="CMD", help="run CMD with each final utterance as its last argument (no shell)")
    p.add_argument("--model", help="bundled model name or checkpoint path")
    p.add_argument("--vad-aggressiveness", type=int, default=2, help="webrtcvad mode 0 (lenient) .. 3 (strict)")
    p.add_argument("--pre-roll-ms", type=int, default=300, help="audio kept before speech starts")
    p.add_argument("--end-silence-ms", type=int, default=600, help="silence that ends an utterance")
    p.add_argument("--max-utterance-s", type=float, default=15.0)
    p.add_argument("--partial-interval-ms", type=int, default=300, help="partial-result cadence; 0 disables partials")
    p.add_argument("--decoder", choices=["greedy", "lm"], default="lm",
                   help="decoder of the final lines: LM beam search (default) or greedy; partials are always greedy")
    p.add_argument("--lm", type=Path, help="ARPA word n-gram model (default: the bundled one)")
    p.add_argument("--hotword", type=hotword, action="append", metavar="PHRASE[:BONUS]", help="boost a phrase (repeatable)")
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS)
    p.set_defaults(run=cmd_listen)

    p = sub.add_parser("export", help="export the acoustic model to ONNX or TorchScript")
    p.add_argument("output", type=Path)
    p.add_argument("--format", choices=["onnx", "torchscript"], required=True)
    p.add_argument("--model", help="bundled model name or checkpoint path")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("lm", help="word n-gram language models for beam search")
    lm = p.add_subparsers(dest="lm_command", required=True)
    p = lm.add_parser("build", help="estimate a modified Kneser-Ney n-gram model from text, as ARPA")
    p.add_argument("text", nargs="+", help="plain text files (normalized here: case, punctuation, numbers)")
    p.add_argument("-o", "--output", type=Path, required=True, help="the .arpa file to write")
    p.add_argument("--order", type=positive_int, default=3)
    p.add_argument("--prune", action="store_true", help="drop highest-order n-grams seen once (smaller model)")
    p.add_argument("--exclude", action="append", default=[], metavar="MANIFEST",
                   help="leave out sentences that a test manifest holds (repeatable), so scores stay honest")
    p.set_defaults(run=cmd_lm_build)

    p = lm.add_parser("tune", help="grid-search --lm-weight and --word-score on a dev manifest")
    p.add_argument("--manifest", type=Path, required=True, help="dev manifest (JSON lines), never the test set")
    p.add_argument("--model", help="checkpoint (default: the bundled model)")
    p.add_argument("--lm", type=Path, help="ARPA file (default: the bundled LM)")
    p.add_argument("--lm-weights", type=float_list, default=[0.3, 0.5, 0.8, 1.2, 1.6])
    p.add_argument("--word-scores", type=float_list, default=[-1.0, 0.0, 1.0, 2.0])
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS)
    p.set_defaults(run=cmd_lm_tune)

    p = sub.add_parser("devices", help="list audio input devices")
    p.set_defaults(run=cmd_devices)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
