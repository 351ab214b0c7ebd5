"""The model workers: a fixed set of threads, each owning one Transcriber, behind a bounded queue.

A Transcriber is not shared between threads: its LM beam search (flashlight-text) and
hotword state are not thread-safe. So each worker thread holds its own, loaded once at
start-up, and every job runs as `job(transcriber)` on whichever worker is free. The
queue is bounded: `admit()` refuses work once `workers + queue_size` jobs are waiting
or running, and the HTTP layer answers 503 instead of holding the audio in memory.
Streams (WS /v1/listen) are counted apart: each has at most one job in flight, and
their number is capped by the app, so they cannot grow the queue without bound either.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Result = TypeVar("Result")


class Busy(Exception):
    """Every worker is busy and the queue is full; retry_after_s estimates when a slot frees up."""

    def __init__(self, retry_after_s: int):
        super().__init__(f"the server is busy; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class WorkerPool:
    """`len(transcribers)` threads, each bound to one of the given transcribers for its whole life."""

    def __init__(self, transcribers: list, queue_size: int):
        idle: queue.SimpleQueue = queue.SimpleQueue()
        for transcriber in transcribers:
            idle.put(transcriber)
        self._local = threading.local()
        # The initializer runs once in each new thread: that thread keeps the transcriber it took.
        self._executor = ThreadPoolExecutor(
            len(transcribers), thread_name_prefix="speech2text-worker", initializer=self._bind, initargs=(idle,)
        )
        self.workers = len(transcribers)
        self.capacity = self.workers + queue_size
        self.pending = 0  # uploads admitted (body arriving, queued or running), not yet finished; event loop only
        self._job_s = 1.0  # moving average of a job's duration, for Retry-After
        self._running = 0  # jobs on a worker thread now
        self._running_lock = threading.Lock()

    def _bind(self, idle: queue.SimpleQueue) -> None:
        self._local.transcriber = idle.get_nowait()

    def _run(self, job: Callable[[object], Result]) -> Result:
        started = time.monotonic()
        with self._running_lock:
            self._running += 1
        try:
            return job(self._local.transcriber)
        finally:
            self._job_s = 0.8 * self._job_s + 0.2 * (time.monotonic() - started)
            with self._running_lock:
                self._running -= 1

    @property
    def running(self) -> int:
        """Jobs running on a worker thread now (what a shutdown would have to wait for)."""
        return self._running

    def admit(self) -> None:
        """Raise Busy if an upload job would find the queue full."""
        if self.pending >= self.capacity:
            waiting_rounds = (self.pending - self.workers) / self.workers + 1
            raise Busy(max(1, math.ceil(waiting_rounds * self._job_s)))

    @contextlib.contextmanager
    def upload_slot(self) -> Iterator[None]:
        """A place in the queue for one upload, held from before its body is read until its transcript is done;
        raises Busy when none is free. Bodies still arriving count, so slow uploads cannot pile up past it."""
        self.admit()
        self.pending += 1
        try:
            yield
        finally:
            self.pending -= 1

    async def upload_job(self, job: Callable[[object], Result]) -> Result:
        """Run job(transcriber) on a worker for an upload that holds an upload_slot()."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._run, job)

    async def stream_job(self, job: Callable[[object], Result]) -> Result:
        """Run job(transcriber) on a worker for a stream: never refused, as each stream has one job at a time."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._run, job)

    def close(self) -> None:
        """Drop the queued jobs and stop the threads once their jobs end, without waiting for them: by now the
        server's shutdown grace is over, and a job still running is abandoned (see `running`)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
