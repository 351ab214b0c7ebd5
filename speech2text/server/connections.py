"""Connections that must make progress: a client that never finishes its request headers is closed.

uvicorn has a keep-alive timeout but none for headers: a connection that sends half a request and waits
holds one of `limit_concurrency`'s places for ever, and a few dozen of them made every request, /health
included, get 503 (issue 40). This protocol is uvicorn's h11 one with a deadline for each request's headers,
from the connection's start or from the end of the response before. Request bodies have their own, per chunk
(speech2text.server.uploads).
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def protocol_with_header_timeout(timeout_s: float) -> type[H11Protocol]:
    """uvicorn's H11Protocol, closing a connection whose request headers are not all in after `timeout_s`."""

    class HeaderTimeoutProtocol(H11Protocol):
        _header_deadline: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._header_deadline = self.loop.call_later(timeout_s, self._close_if_waiting_for_headers)

        def _disarm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def _close_if_waiting_for_headers(self) -> None:
            # Still IDLE: the client's request line and headers are not complete (h11 leaves IDLE once they are).
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol
