"""`speech2text serve`: the HTTP and WebSocket server (speech2text.server), on uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import signal
import socket
import sys

from . import transcribe
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
    non_negative_float,
    non_negative_int,
    os_error,
    positive_float,
    positive_int,
    thread_count,
)

API_KEY_VARIABLE = "S2T_API_KEY"
GRACEFUL_SHUTDOWN_S = 30
HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0
MAX_DURATION_S = 1800.0


def _listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket (port 0: any free port); OSError with the reason otherwise."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    return socket.create_server(address[:2], family=family, backlog=128)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _allowed_hosts(host: str, extra) -> tuple[str, ...]:
    """The Host headers served without an API key: localhost names, the bound address and --allowed-host."""
    from ..server.app import LOCAL_HOSTS

    bound = () if host in ("0.0.0.0", "::", "") else (host, f"[{host}]" if ":" in host else host)
    return tuple(dict.fromkeys([*LOCAL_HOSTS, *bound, *extra]))


def _transcriber_spec(args):
    """The TranscriberSpec `transcribe` builds from the same flags (speech2text/cli/transcribe.py, cmd_transcribe)."""
    from ..batch import TranscriberSpec

    runtime = transcribe.choose_runtime(args)
    threads = max(1, args.threads // args.workers)
    return TranscriberSpec(runtime, args.model, threads, None, decoding_options(args))


def cmd_serve(args) -> int:
    try:
        import uvicorn

        from ..server import ServerConfig, StreamSettings, WorkerPool, create_app
        from ..server.connections import protocol_with_header_timeout
        from ..server.streaming import MAX_MESSAGE_BYTES
    except ImportError as e:
        error(f"speech2text serve needs the serve extra: pip install 'speech2text[serve]' ({e.name} is missing)")
        return EXIT_FAILED
    from ..batch import LoadError
    from ..vad import VadConfig

    api_key = args.api_key or os.environ.get(API_KEY_VARIABLE) or None
    try:
        vad = VadConfig(max_utterance_s=args.max_utterance_s)
    except ValueError as e:
        error(str(e))
        return EXIT_USAGE
    try:
        sock = _listening_socket(args.host, args.port)  # first, so that a port in use fails at once
    except OSError as e:
        error(f"cannot listen on {args.host}:{args.port} ({e.strerror or e})")
        return EXIT_FAILED
    try:
        spec = _transcriber_spec(args)
        transcribers = [spec.load() for _ in range(args.workers)]
    except (LoadError, ValueError) as e:
        sock.close()
        error(str(e))
        return EXIT_FAILED
    except OSError as e:
        sock.close()
        os_error(e)
        return EXIT_FAILED
    config = ServerConfig(
        model_name=str(args.model or "en-small"), runtime=spec.runtime,
        stream=StreamSettings(vad, args.partial_interval_ms, spec.decoding.decoder, args.idle_timeout_s),
        decoding=spec.decoding, api_key=api_key,
        max_upload_bytes=int(args.max_upload_mb * 1e6), max_streams=args.max_streams,
        cors_origins=tuple(args.cors_origin or ()), max_duration_s=args.max_duration_s or None,
        body_timeout_s=args.body_timeout_s, allowed_hosts=_allowed_hosts(args.host, args.allowed_host or ()),
    )
    pool = WorkerPool(transcribers, args.queue_size)
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    ready = (f"speech2text: serving on http://{shown_host}:{port} ({spec.runtime}, {args.workers} worker{'s' if args.workers > 1 else ''}"
             f"{', API key required' if api_key else ''})")

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            print(ready, file=sys.stderr, flush=True)  # once uvicorn accepts: tests and scripts wait for this line

        def handle_exit(self, sig, frame):
            # uvicorn forces its exit only on a second SIGINT; a second SIGTERM (what service managers send) too.
            if self.should_exit:
                self.force_exit = True
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(
        create_app(pool, config), log_level="warning", access_log=False, ws="websockets-sansio", ws_max_size=MAX_MESSAGE_BYTES,
        timeout_graceful_shutdown=max(1, math.ceil(args.shutdown_timeout_s)),
        limit_concurrency=4 * (pool.capacity + args.max_streams) + 16,
        http=protocol_with_header_timeout(args.header_timeout_s),
    ))
    if not api_key and not _is_loopback(args.host):
        error(f"warning: {args.host} is reachable from other machines and no API key is set "
              f"(--api-key or {API_KEY_VARIABLE})")
    # The server's own warnings (speech2text.server: a stream's finals dropped with its socket), as one line each.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("speech2text: %(message)s"))
    logging.getLogger("speech2text.server").addHandler(handler)
    # uvicorn finishes the requests in flight on SIGTERM, then raises the signal again once its own
    # handler is gone: this one makes that a clean exit instead of death by signal.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    server.run(sockets=[sock])
    if pool.running:
        # A job past the shutdown grace (its client has been answered or cut off) cannot be stopped inside its
        # thread, and Python would wait for that thread at exit: leave without it.
        error(f"shutdown: {pool.running} transcription job(s) still running after the {args.shutdown_timeout_s:g} s "
              "grace were abandoned")
        sys.stderr.flush()
        os._exit(EXIT_FAILED)
    return EXIT_OK


def add_parsers(sub) -> None:
    p = sub.add_parser("serve",
                       help="HTTP server: OpenAI-compatible /v1/audio/transcriptions, WS /v1/listen, a page with a mic")
    add_model_arguments(p)
    add_decoding_arguments(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000; 0 picks a free one)")
    p.add_argument("--api-key", help=f"require Authorization: Bearer KEY on every route but /health "
                                     f"(default: the {API_KEY_VARIABLE} environment variable; none if unset)")
    p.add_argument("--max-upload-mb", type=positive_float, default=25.0, help="largest upload accepted (default: 25)")
    p.add_argument("--workers", type=positive_int, default=DEFAULT_THREADS,
                   help=f"model threads, each with its own model and LM (default: {DEFAULT_THREADS})")
    p.add_argument("--threads", type=thread_count, default=DEFAULT_THREADS,
                   help=f"CPU threads of the acoustic model in all, shared among the workers (default: {DEFAULT_THREADS})")
    p.add_argument("--queue-size", type=non_negative_int, default=16,
                   help="uploads that may wait for a free worker; past that the server answers 503 (default: 16)")
    p.add_argument("--max-streams", type=positive_int, default=8, help="open WS /v1/listen streams at most (default: 8)")
    p.add_argument("--idle-timeout-s", type=positive_float, default=30.0,
                   help="a stream that sends nothing for this long is ended (default: 30)")
    p.add_argument("--max-utterance-s", type=finite_float, default=15.0,
                   help="a stream's utterance is cut after this long (default: 15)")
    p.add_argument("--partial-interval-ms", type=non_negative_int, default=300,
                   help="stream partial-result cadence; 0 disables partials")
    p.add_argument("--max-duration-s", type=non_negative_float, default=MAX_DURATION_S,
                   help=f"refuse uploads longer than this, from their header, before decoding (default: "
                        f"{MAX_DURATION_S:g}; 0: no limit)")
    p.add_argument("--header-timeout-s", type=positive_float, default=HEADER_TIMEOUT_S,
                   help=f"close a connection whose request headers are not all in after this long "
                        f"(default: {HEADER_TIMEOUT_S:g})")
    p.add_argument("--body-timeout-s", type=positive_float, default=BODY_TIMEOUT_S,
                   help=f"refuse an upload that sends nothing for this long (default: {BODY_TIMEOUT_S:g})")
    p.add_argument("--shutdown-timeout-s", type=positive_float, default=GRACEFUL_SHUTDOWN_S,
                   help="on SIGTERM, let requests in flight finish for this long, then abandon them; a second "
                        f"SIGTERM or SIGINT abandons them at once (default: {GRACEFUL_SHUTDOWN_S})")
    p.add_argument("--allowed-host", action="append", metavar="HOST",
                   help="without an API key, serve requests whose Host is HOST as well as localhost and the "
                        "bound address; others get 400 (DNS rebinding; repeatable)")
    p.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                   help="let pages from ORIGIN (e.g. https://app.example.com) call the API (repeatable; default: none)")
    p.set_defaults(run=cmd_serve, quantize=None, plot=None)
