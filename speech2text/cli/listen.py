"""`speech2text listen` (live dictation) and `speech2text devices`."""

from __future__ import annotations

import argparse
import json
import sys

from .common import (
    DEFAULT_THREADS,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_decoding_arguments,
    add_model_arguments,
    decoding_options,
    error,
    finite_float,
    thread_count,
)


def cmd_devices(args) -> int:
    from ..microphone import print_devices

    print_devices()
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


def _after_interrupt(events):
    """The final events that Ctrl-C still owes: the utterance in progress, decoded.

    When Ctrl-C lands inside the generator, it has already flushed and this yields nothing.
    When it lands while a line was being written, it is raised inside the generator here,
    where the utterance in progress gets decoded. A second Ctrl-C stops the flush.
    """
    if events is None:  # interrupted before streaming began
        return
    try:
        event = events.throw(KeyboardInterrupt)
        while True:
            yield event
            event = next(events)
    except (KeyboardInterrupt, StopIteration):
        return


# Flags that are VadConfig fields of the same name.
VAD_FLAGS = ("aggressiveness", "pre_roll_ms", "end_silence_ms", "max_utterance_s")


def cmd_listen(args) -> int:
    import shlex
    import signal

    from ..audio import AudioError
    from ..microphone import Microphone, MicrophoneError
    from ..stream import file_chunks, stream_events
    from ..transcribe import load_transcriber
    from ..vad import VadConfig

    try:
        # Only the VAD flags given: the rest keep VadConfig's defaults, written there alone.
        vad = VadConfig(**{field: getattr(args, field) for field in VAD_FLAGS if field in args})
        exec_command = shlex.split(args.exec) if args.exec else None
    except ValueError as e:
        error(str(e))
        return EXIT_USAGE
    decoding = decoding_options(args)
    transcriber = load_transcriber(args.model, args.runtime, threads=args.threads)
    if decoding.decoder == "lm":
        transcriber.load_language_model(**decoding.lm_options())
    if args.input:
        source = file_chunks(args.input, realtime=not args.fast)
        microphone = None
    else:
        microphone = Microphone(args.device, on_ready=lambda name: print(f"listening on {name}", file=sys.stderr, flush=True))
        source = microphone
    # SIGINT and SIGTERM end a session like Ctrl-C: the utterance in progress is flushed first.
    # SIGINT is set explicitly because a shell starts background jobs with it ignored, and
    # Python then never installs its Ctrl-C handler: `kill -INT` would be lost.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    output = _Output(args.format, args.partial_interval_ms > 0, exec_command)
    status = EXIT_OK
    events = None
    try:
        events = stream_events(
            transcriber, source, vad=vad, partial_interval_ms=args.partial_interval_ms, decoder=decoding.decoder
        )
        for event in events:
            output(event)
    except KeyboardInterrupt:
        try:
            for event in _after_interrupt(events):
                output(event)
        except KeyboardInterrupt:  # a second Ctrl-C: stop now
            pass
    except (MicrophoneError, AudioError) as e:
        error(f"{args.input}: {e}" if args.input else str(e))
        status = EXIT_FAILED
    finally:
        if events is not None:
            events.close()  # closes the microphone stream here, not whenever garbage collection gets to it
        output.close()
        if microphone and microphone.report():
            error(microphone.report())
    return status


def add_parsers(sub) -> None:
    p = sub.add_parser("listen", help="live dictation: one line per spoken utterance (microphone or --input FILE)")
    p.add_argument("--device", help="input device index or part of its name (default: the system default)")
    p.add_argument("--input", help="read this audio file as if it were a microphone, at real-time pace")
    p.add_argument("--fast", action="store_true", help="with --input: do not wait for real time")
    p.add_argument("--format", choices=["txt", "jsonl"], default="txt")
    p.add_argument("--exec", metavar="CMD", help="run CMD with each final utterance as its last argument (no shell)")
    add_model_arguments(p)
    vad = p.add_argument_group("endpointing (defaults: speech2text.vad.VadConfig)")
    vad.add_argument("--vad-aggressiveness", dest="aggressiveness", type=int, default=argparse.SUPPRESS,
                     help="webrtcvad mode 0 (lenient) .. 3 (strict)")
    vad.add_argument("--pre-roll-ms", type=int, default=argparse.SUPPRESS, help="audio kept before speech starts")
    vad.add_argument("--end-silence-ms", type=int, default=argparse.SUPPRESS, help="silence that ends an utterance")
    vad.add_argument("--max-utterance-s", type=finite_float, default=argparse.SUPPRESS,
                     help="an utterance is cut here")
    p.add_argument("--partial-interval-ms", type=int, default=300, help="partial-result cadence; 0 disables partials")
    add_decoding_arguments(p, decoders=("greedy", "lm"))  # of the final lines; partials are always greedy
    p.add_argument("--threads", type=thread_count, default=DEFAULT_THREADS)
    p.set_defaults(run=cmd_listen)


    p = sub.add_parser("devices", help="list audio input devices")
    p.set_defaults(run=cmd_devices)
