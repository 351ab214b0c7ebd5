"""`speech2text serve`: an OpenAI-compatible transcription endpoint, a live WebSocket stream and a page with a mic.

    app.py        the routes, the API key, errors in OpenAI's shape
    uploads.py    reading a multipart upload within its size limit; the request's fields
    responses.py  a Transcript in each response_format (json, text, srt, vtt, verbose_json)
    streaming.py  WS /v1/listen over the streaming core of `listen` (speech2text.stream)
    workers.py    the model threads, one Transcriber each, behind a bounded queue
    connections.py  uvicorn's HTTP protocol with a deadline for request headers (slow clients)
    page/         the browser page: index.html, page.js, capture.js (an AudioWorklet)

Needs the `serve` extra (FastAPI, uvicorn, python-multipart, websockets); the CLI
imports this package only inside `speech2text serve`.
"""

from .app import ServerConfig, create_app
from .streaming import StreamSettings
from .workers import WorkerPool

__all__ = ["ServerConfig", "StreamSettings", "WorkerPool", "create_app"]
