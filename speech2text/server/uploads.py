"""Reading a POST /v1/audio/transcriptions request: the multipart upload, with its size limit, and its fields.

The limit is enforced while the body is read: a Content-Length over it is refused
before a byte is read, and a body without one (chunked) is cut off at the limit; a body
that stops arriving is refused after `body_timeout_s` (serve --body-timeout-s). The
file part is spooled by Starlette's multipart parser (memory up to 1 MB, then a
temporary file), so a request never holds more than that in memory.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from ..text import normalize_text
from .responses import RESPONSE_FORMATS

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 16
MAX_PROMPT_PHRASES = 32
PROMPT_BONUS = 10.0  # what `--hotword PHRASE` gets without a :BONUS
ENGLISH = ("en", "eng", "english")


class RequestError(Exception):
    """A request the server cannot serve; `status` is the HTTP status, `param` the field at fault."""

    def __init__(self, status: int, message: str, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.param = param


@dataclass(frozen=True)
class TranscriptionRequest:
    audio: UploadFile
    response_format: str
    hotwords: tuple[tuple[str, float], ...]  # from `prompt`: (phrase, bonus)

    def suffix(self) -> str:
        """The upload's file extension (say '.flac'), if it is a plain one; soundfile reads by content anyway."""
        match = re.search(r"\.[A-Za-z0-9]{1,8}$", self.audio.filename or "")
        return match.group(0) if match else ""


def _too_large(max_upload_bytes: int) -> RequestError:
    return RequestError(413, f"the upload is larger than the server's limit of {max_upload_bytes / 1e6:g} MB", "file")


async def _limited(chunks: AsyncIterator[bytes], max_upload_bytes: int, body_timeout_s: float) -> AsyncIterator[bytes]:
    """The body's chunks, cut off past `max_upload_bytes` (413) or when none arrives for `body_timeout_s` (408)."""
    received = 0
    chunks = aiter(chunks)
    while True:
        try:
            chunk = await asyncio.wait_for(anext(chunks), body_timeout_s)
        except StopAsyncIteration:
            return
        except asyncio.TimeoutError:  # TimeoutError from 3.11 on
            raise RequestError(408, f"no part of the upload arrived for {body_timeout_s:g} s", "file") from None
        received += len(chunk)
        if received > max_upload_bytes:
            raise _too_large(max_upload_bytes)
        yield chunk


def prompt_hotwords(prompt: str) -> tuple[tuple[str, float], ...]:
    """A prompt's phrases, split at commas, semicolons and line breaks, as hotwords with the default bonus."""
    phrases = [normalize_text(piece) for piece in re.split(r"[,;\n]", prompt)]
    phrases = [phrase for phrase in dict.fromkeys(phrases) if phrase]
    if len(phrases) > MAX_PROMPT_PHRASES:
        raise RequestError(400, f"the prompt holds {len(phrases)} phrases; at most {MAX_PROMPT_PHRASES}", "prompt")
    return tuple((phrase, PROMPT_BONUS) for phrase in phrases)


def _checked_fields(fields: dict[str, str]) -> tuple[str, tuple[tuple[str, float], ...]]:
    """(response_format, prompt hotwords) from the form fields; RequestError for a value we cannot honour."""
    response_format = fields.get("response_format") or "json"
    if response_format not in RESPONSE_FORMATS:
        raise RequestError(400, f"response_format must be one of {', '.join(RESPONSE_FORMATS)}, not {response_format!r}",
                           "response_format")
    language = (fields.get("language") or "en").strip().lower()
    if language.split("-")[0] not in ENGLISH:
        raise RequestError(400, f"only English is supported (language 'en'), not {fields['language']!r}", "language")
    if "temperature" in fields:  # accepted for compatibility: the decoding here is deterministic
        try:
            temperature = float(fields["temperature"])
        except ValueError:
            temperature = math.nan
        if not 0 <= temperature <= 1:
            raise RequestError(400, f"temperature must be a number from 0 to 1, not {fields['temperature']!r}",
                               "temperature")
    if fields.get("stream", "false").lower() == "true":
        raise RequestError(400, "streamed responses are not offered here; stream audio over WS /v1/listen", "stream")
    return response_format, prompt_hotwords(fields.get("prompt", ""))


async def read_transcription_request(request: Request, max_upload_bytes: int,
                                     body_timeout_s: float) -> TranscriptionRequest:
    """The checked request, its audio spooled; raises RequestError (400 or 413).

    The caller closes `audio` when done with it.
    """
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise RequestError(400, "send the audio as multipart/form-data with a 'file' field")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_upload_bytes:
        raise _too_large(max_upload_bytes)
    parser = MultiPartParser(request.headers, _limited(request.stream(), max_upload_bytes, body_timeout_s),
                             max_files=1, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise RequestError(400, f"malformed multipart body ({error.message})") from None
    audio = form.get("file")
    fields = {name: value for name, value in form.multi_items() if isinstance(value, str)}
    if not isinstance(audio, UploadFile):
        await form.close()
        raise RequestError(400, "the multipart field 'file' (the audio file) is missing", "file")
    try:
        response_format, hotwords = _checked_fields(fields)
    except RequestError:
        await form.close()
        raise
    return TranscriptionRequest(audio, response_format, hotwords)
