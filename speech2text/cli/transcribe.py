"""`speech2text transcribe` and `speech2text export`."""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

from ..audio import MAX_DURATION_S
from ..errors import OutputError
from ..files import write_text_atomically
from .common import (
    DEFAULT_THREADS,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_decoding_arguments,
    add_model_arguments,
    check_writable,
    decoding_options,
    error,
    non_negative_float,
    positive_int,
    refuse_overwriting_input,
    thread_count,
)


def draw_plot(transcriber, path: str, transcript, png: Path) -> None:
    from ..audio import AudioError, load_audio
    from ..plot import MAX_PLOT_S, plot_alignment

    samples = load_audio(path)
    if len(samples) > MAX_PLOT_S * 16000:
        raise AudioError(f"too long for --plot ({len(samples) / 16000:.0f} s; at most {MAX_PLOT_S:.0f} s)")
    plot_alignment(transcriber, samples, transcript, png)
    print(f"{path}: alignment plot -> {png}", file=sys.stderr)



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


def choose_runtime(args) -> str:
    """transcribe.choose_runtime for these flags: onnx (no torch) unless --quantize needs PyTorch."""
    from ..transcribe import choose_runtime

    return choose_runtime(args.model, args.runtime, needs_torch=bool(args.quantize))


def cmd_transcribe(args) -> int:
    _return_big_buffers_to_the_system()
    from ..batch import TranscriberSpec, transcribe_files, transcribe_one
    from ..formats import render

    if sum(1 for f in args.files if f == "-") > 1:
        error("stdin (-) can be read only once")
        return EXIT_USAGE
    if args.plot and (len(args.files) != 1 or args.files[0] == "-"):
        error("--plot draws one file: name exactly one audio file")
        return EXIT_USAGE
    runtime = choose_runtime(args)
    # Several files go to worker processes, one per core, unless stdin is among them (a worker cannot read it).
    jobs = 1 if "-" in args.files else min(args.jobs or DEFAULT_THREADS, len(args.files))
    spec = TranscriberSpec(runtime, args.model, max(1, args.threads // jobs), args.quantize, decoding_options(args),
                           args.max_duration_s or None)
    # Every output is checked before any audio is decoded: a folder that cannot be written fails at once.
    if args.output_dir:
        check_writable(args.output_dir, folder=True)
        args.outputs = output_paths(args.files, args.output_dir, args.format)
        if not args.overwrite:
            refuse_replacing_outputs(list(args.outputs.values()))
    if args.plot:
        check_writable(args.plot)
        refuse_overwriting_input(args.plot, [Path(f) for f in args.files if f != "-"])
    from tqdm import tqdm

    # Progress bars on a terminal only, so that pipes and logs stay clean: one over the files
    # of a batch, or one over the audio seconds of a single long file.
    tty = sys.stderr.isatty()
    try:
        if jobs > 1:
            results = transcribe_files(args.files, spec, jobs)
        else:
            transcriber = spec.load()
            results = (transcribe_one(transcriber, spec, path, progress=len(args.files) < 3 and tty) for path in args.files)
        return _write_results(args, tqdm(results, desc="transcribe", unit="file", total=len(args.files),
                                         disable=len(args.files) < 3 or not tty), render, transcriber if args.plot else None)
    except ValueError as e:  # a model or decoder setting the runtime refuses
        error(str(e))
        return EXIT_FAILED


def _write_results(args, results, render, plot_transcriber) -> int:
    """Print or write each file's transcript in order; one error line per file that failed."""
    failed = 0
    json_records = []
    for path, result in zip(args.files, results, strict=True):  # strict: the worker pool is run to its end
        name = "<stdin>" if path == "-" else one_line(path)
        try:
            if isinstance(result, str):
                raise _FileFailed(result)
            if plot_transcriber is not None:
                draw_plot(plot_transcriber, path, result, args.plot)
            if args.output_dir:
                out = args.outputs[path]
                try:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    write_text_atomically(out, render(name, result, args.format), replace=args.overwrite)
                except FileExistsError:  # another process wrote that name after the check before the work
                    error(f"{out}: written meanwhile by another process; kept it (--overwrite replaces it)")
                    failed += 1
                    continue
                except OSError as e:  # named by the output it could not write, not by the input
                    error(f"{out}: {e.strerror or e}")
                    failed += 1
                    continue
                print(f"{name} -> {out}", file=sys.stderr)
                continue
        except (_FileFailed, ValueError) as e:  # AudioError is a ValueError
            error(f"{name}: {e}")
            failed += 1
            continue
        except OSError as e:
            error(f"{name}: {e.strerror or e}")
            failed += 1
            continue
        if args.format == "json":
            json_records.append({"audio": name, **result.to_dict()})
        elif args.format == "txt" and len(args.files) > 1:  # which line is which file: "FILE<tab>text"
            print(f"{name}\t{render(name, result, args.format)}", end="", flush=True)
        else:
            print(render(name, result, args.format), end="", flush=True)
    if json_records:
        print(json.dumps(json_records[0] if len(args.files) == 1 else json_records, indent=2))
    return EXIT_FAILED if failed else EXIT_OK


def one_line(name: str) -> str:
    """A file name as one line with no tab: control characters and backslashes escaped as in JSON strings
    ("x.wav\\tunlock" for a tab), so that no name can forge a line of "FILE<tab>text" output or of stderr."""
    return re.sub(r"[\x00-\x1f\x7f\\]", lambda match: json.dumps(match.group())[1:-1], name)


def output_paths(files: list[str], output_dir: Path, fmt: str) -> dict[str, Path]:
    """One output file per input, never two inputs on one name: `D/x.txt` for `a/x.wav`, unless another input
    has the stem x too; then each of those keeps its folders under the inputs' common folder and its audio
    suffix (`D/ca/x.wav.txt`, `D/cb/x.wav.txt`, `D/ca/x.flac.txt`). Raises ValueError where an output
    would be one of the inputs."""
    stems = Counter("stdin" if f == "-" else Path(f).stem for f in set(files))
    colliding = [Path(f).resolve() for f in set(files) if f != "-" and stems[Path(f).stem] > 1]
    common = Path(os.path.commonpath(colliding)) if colliding else None
    if common is not None and common in colliding:  # one file named twice in different ways
        common = common.parent
    outputs = {}
    for f in files:
        if f == "-":
            outputs[f] = output_dir / f"stdin.{fmt}"
        elif stems[Path(f).stem] > 1:
            outputs[f] = output_dir / Path(f).resolve().relative_to(common).with_name(f"{Path(f).name}.{fmt}")
        else:
            outputs[f] = output_dir / f"{Path(f).stem}.{fmt}"
    inputs = [Path(f) for f in files if f != "-"]
    for out in outputs.values():
        refuse_overwriting_input(out, inputs)
    return outputs


def refuse_replacing_outputs(outputs: list[Path]) -> None:
    """Before any work: OutputError when a transcript to be written exists already. It may be another
    input's (a run before, or another process, with the same name), so it is replaced only with --overwrite."""
    existing = [out for out in outputs if out.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise OutputError(f"{existing[0]}: exists{more}; give --overwrite to replace it, or another --output-dir")


class _FileFailed(Exception):
    """One input file could not be transcribed; the message says why."""


def cmd_export(args) -> int:
    from ..bundled import resolve_model
    from ..export import export, onnx_metadata
    from ..transcribe import Transcriber

    try:
        refuse_overwriting_input(args.output, [resolve_model(args.model)])
        check_writable(args.output)
        transcriber = Transcriber.from_pretrained(args.model)
        # The ONNX file carries what the torch-free runtime needs: frontend settings, labels, source checksum.
        export(transcriber.model, args.output, args.format, onnx_metadata(transcriber.backend, resolve_model(args.model)))
    except RuntimeError as e:  # torch.jit.save raises RuntimeError for a path it cannot write
        error(str(e).splitlines()[0] if str(e) else type(e).__name__)
        return EXIT_FAILED
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.1f} MB)")
    return EXIT_OK


def add_parsers(sub) -> None:
    p = sub.add_parser("transcribe", help="transcribe audio files (wav, flac, ogg, mp3; - for stdin)")
    p.add_argument("files", nargs="+", metavar="FILE")
    add_model_arguments(p)
    p.add_argument("--format", choices=["txt", "json", "jsonl", "srt", "vtt"], default="txt")
    p.add_argument("--output-dir", type=Path, help="write one FORMAT file per input here instead of stdout")
    p.add_argument("--overwrite", action="store_true",
                   help="with --output-dir: replace transcripts that exist (default: refuse before any work)")
    add_decoding_arguments(p)  # beam and lm put the n-best list in json
    p.add_argument("--plot", type=Path, metavar="PNG",
                   help="draw waveform, log-mel, CTC posteriors and word boundaries of the one input file")
    p.add_argument("--max-duration-s", type=non_negative_float, default=MAX_DURATION_S,
                   help=f"refuse audio longer than this, from its header, before decoding (default: {MAX_DURATION_S:g}; "
                        "0: no limit)")
    p.add_argument("--quantize", choices=["int8"], help="dynamic int8 quantization of the LSTM and linear layers")
    p.add_argument("--threads", type=thread_count, default=DEFAULT_THREADS,
                   help=f"CPU threads in all (default: {DEFAULT_THREADS}), shared among the --jobs workers")
    p.add_argument("--jobs", type=positive_int,
                   help=f"worker processes for several files, each with its own model (default: {DEFAULT_THREADS}, "
                        "at most one per file; 1 transcribes in this process)")
    p.set_defaults(run=cmd_transcribe)


    p = sub.add_parser("export", help="export the acoustic model to ONNX or TorchScript")
    p.add_argument("output", type=Path)
    p.add_argument("--format", choices=["onnx", "torchscript"], required=True)
    p.add_argument("--model", help="bundled model name or checkpoint path")
    p.set_defaults(run=cmd_export)
