"""The HTTP and WebSocket routes of `speech2text serve`.

    POST /v1/audio/transcriptions   OpenAI-compatible: multipart `file`, `response_format`, ...
    WS   /v1/listen                 live PCM16 in, partial and final events out (speech2text.server.streaming)
    GET  /v1/models                 the one model, as OpenAI lists models
    GET  /health                    liveness and load; the only route that never needs the API key
    GET  /                          the page: microphone button and file drop (speech2text/server/page/)

Errors have OpenAI's shape, {"error": {"message", "type", "param", "code"}}, so
OpenAI clients show the message. With an API key, every route but /health and the
page's static files needs `Authorization: Bearer KEY`; a browser, which cannot set
that header on a WebSocket, may offer the key as the subprotocol `bearer.KEY`.
"""

from __future__ import annotations

import contextlib
import copy
import hmac
import shutil
import tempfile
from dataclasses import dataclass, replace
from importlib import resources
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from ..audio import AudioError, audio_info, check_length
from ..decoding import DecodingOptions
from ..lm import LanguageModelError
from .responses import MEDIA_TYPES, render
from .streaming import (
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    TRY_AGAIN_LATER,
    ListenSession,
    StreamSettings,
)
from .uploads import RequestError, TranscriptionRequest, read_transcription_request
from .workers import Busy, WorkerPool

PAGE_FILES = {"/": ("index.html", "text/html"), "/page.js": ("page.js", "text/javascript"),
              "/capture.js": ("capture.js", "text/javascript")}
WEBSOCKET_PROTOCOL = "speech2text"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
KEY_PROTOCOL_PREFIX = "bearer."


@dataclass(frozen=True)
class ServerConfig:
    """What the routes need to know; the transcribers themselves live in the WorkerPool.

    decoding: those of `transcribe` for the same flags, which the workers' LMs were loaded with; a request
    whose `prompt` adds hotwords decodes with them plus its own.
    """

    model_name: str
    runtime: str
    stream: StreamSettings
    decoding: DecodingOptions = DecodingOptions()
    api_key: str | None = None
    max_upload_bytes: int = 25_000_000
    max_streams: int = 8
    cors_origins: tuple[str, ...] = ()
    max_duration_s: float | None = 1800.0  # longer uploads are refused from their header (None: no limit)
    body_timeout_s: float = 30.0  # an upload that sends nothing for this long is refused (408)
    # Host headers served without an API key (DNS rebinding: a page on evil.example whose name now points here).
    allowed_hosts: tuple[str, ...] = LOCAL_HOSTS


def _error(status: int, message: str, param: str | None = None, headers: dict | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": param, "code": status}}
    return JSONResponse(body, status, headers=headers)


class _PromptedTranscribers:
    """Per worker, the transcriber for the last prompt seen: an LM with the prompt's hotwords takes ~1.5 s to build."""

    def __init__(self, decoding: DecodingOptions):
        self.decoding = decoding
        # id(worker's transcriber) -> (hotwords, transcriber); each entry is touched by its own worker thread only
        self.last: dict[int, tuple[tuple, object]] = {}

    def options(self, hotwords: tuple) -> DecodingOptions:
        """The server's options plus a prompt's hotwords (which imply the LM decoder, as DecodingOptions says)."""
        return replace(self.decoding, hotwords=self.decoding.hotwords + hotwords) if hotwords else self.decoding

    def get(self, transcriber, hotwords: tuple):
        if not hotwords:
            return transcriber
        cached = self.last.get(id(transcriber))
        if cached is not None and cached[0] == hotwords:
            return cached[1]
        prompted = copy.copy(transcriber)  # shares the acoustic model, which is read-only
        prompted.load_language_model(**self.options(hotwords).lm_options())
        self.last[id(transcriber)] = (hotwords, prompted)
        return prompted


def create_app(pool: WorkerPool, config: ServerConfig) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        pool.close()  # uvicorn has let the requests in flight finish; their jobs are done or queued

    app = FastAPI(title="speech2text", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    if not config.api_key:  # without a key, any page a browser shows could reach us under another name
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts))
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    page = {route: (resources.files(__package__).joinpath("page", name).read_bytes(), media_type)
            for route, (name, media_type) in PAGE_FILES.items()}
    prompted = _PromptedTranscribers(config.decoding)
    streams = {"open": 0, "undelivered_finals": 0}  # finals of streams whose client closed before "end"
    expected_key = config.api_key.encode() if config.api_key else None

    def key_matches(offered: str | None) -> bool:
        return expected_key is None or (offered is not None and hmac.compare_digest(offered.encode(), expected_key))

    def bearer(headers) -> str | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def require_key(request: Request) -> None:
        if not key_matches(bearer(request.headers)):
            raise RequestError(401, "a valid API key is required: Authorization: Bearer KEY")

    @app.exception_handler(RequestError)
    async def request_error(request, error: RequestError):
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return _error(error.status, str(error), error.param, headers)

    @app.exception_handler(Busy)
    async def busy(request, error: Busy):
        return _error(503, str(error), headers={"Retry-After": str(error.retry_after_s)})

    @app.exception_handler(HTTPException)
    async def http_error(request, error: HTTPException):
        return _error(error.status_code, str(error.detail), headers=error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request, error: Exception):  # a bug: the traceback goes to the server's log, not the client
        return _error(500, "internal server error")

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": config.model_name, "runtime": config.runtime, "workers": pool.workers,
                "queued_or_running": pool.pending, "streams": streams["open"],
                "undelivered_finals": streams["undelivered_finals"], "auth": expected_key is not None}

    def page_file(body: bytes, media_type: str):
        async def serve():
            return Response(body, media_type=media_type)

        return serve

    for route, (body, media_type) in page.items():
        app.add_api_route(route, page_file(body, media_type), methods=["GET"], include_in_schema=False)

    @app.get("/v1/models")
    async def models(request: Request):
        require_key(request)
        return {"object": "list", "data": [{"id": config.model_name, "object": "model", "owned_by": "speech2text"}]}

    def transcription_job(upload: TranscriptionRequest):
        def job(transcriber):
            transcriber = prompted.get(transcriber, upload.hotwords)
            decoding = prompted.options(upload.hotwords)
            with tempfile.NamedTemporaryFile(prefix="speech2text-upload-", suffix=upload.suffix()) as audio:
                upload.audio.file.seek(0)
                shutil.copyfileobj(upload.audio.file, audio)
                audio.flush()
                check_length(audio_info(audio.name), config.max_duration_s)  # before decoding, as `transcribe`
                # As `speech2text transcribe` reads a file (speech2text.batch.transcribe_one), so the text is the same.
                return transcriber.transcribe(audio.name, decoder=decoding.decoder,
                                              beam_size=decoding.search_beam_size, reject_silence=True)

        return job

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request):
        require_key(request)
        with pool.upload_slot():  # taken before the body is read: refused at once when full, and held while it arrives
            try:
                upload = await read_transcription_request(request, config.max_upload_bytes, config.body_timeout_s)
            except ClientDisconnect:
                return Response(status_code=400)  # no one reads it
            try:
                transcript = await pool.upload_job(transcription_job(upload))
            except AudioError as error:
                raise RequestError(400, f"{upload.audio.filename or 'file'}: {error}", "file") from None
            except LanguageModelError as error:
                raise RequestError(400, f"cannot use the prompt as hotwords ({error})", "prompt") from None
            finally:
                await upload.audio.close()
        body = render(transcript, upload.response_format)
        if isinstance(body, dict):
            return JSONResponse(body)
        return PlainTextResponse(body, media_type=MEDIA_TYPES[upload.response_format])

    def origin_allowed(websocket: WebSocket) -> bool:
        """A browser names the page's origin: only the server's own page or a --cors-origin may stream."""
        origin = websocket.headers.get("origin")
        return origin is None or urlsplit(origin).netloc == websocket.headers.get("host") or \
            origin in config.cors_origins

    @app.websocket("/v1/listen")
    async def listen(websocket: WebSocket):
        protocols = websocket.scope.get("subprotocols", [])
        offered_key = bearer(websocket.headers) or next(
            (p[len(KEY_PROTOCOL_PREFIX):] for p in protocols if p.startswith(KEY_PROTOCOL_PREFIX)), None)
        if not key_matches(offered_key):
            return await websocket.send_denial_response(
                _error(401, "a valid API key is required: Authorization: Bearer KEY", headers={"WWW-Authenticate": "Bearer"}))
        if not origin_allowed(websocket):
            return await websocket.send_denial_response(_error(403, "this origin may not stream here (--cors-origin)"))
        try:
            sample_rate = int(websocket.query_params.get("sample_rate", "16000"))
        except ValueError:
            sample_rate = 0
        if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
            return await websocket.send_denial_response(_error(
                400, f"sample_rate must be a whole number of Hz from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE}",
                "sample_rate"))
        await websocket.accept(WEBSOCKET_PROTOCOL if WEBSOCKET_PROTOCOL in protocols else None)
        if streams["open"] >= config.max_streams:
            reason = f"the server holds its maximum of {config.max_streams} streams; try again later"
            await websocket.send_json({"type": "error", "message": reason})
            return await websocket.close(TRY_AGAIN_LATER, reason)
        streams["open"] += 1
        session = ListenSession(websocket, pool, config.stream, sample_rate)
        try:
            await session.run()
        finally:
            streams["open"] -= 1
            streams["undelivered_finals"] += len(session.undelivered)

    return app
