"""Transcribing many files on all cores: worker processes, each with its own model, results in input order.

Every stage of a file (reading, features, the acoustic model, LM beam search,
forced alignment) runs in one worker, so N workers keep N cores busy; within a
process only the acoustic model would (the beam search is single-threaded).
A worker transcribes a file exactly as Transcriber.transcribe does in one process,
so the results equal one-by-one transcription (tests/test_batch.py).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .audio import MAX_DURATION_S
from .decoding import DecodingOptions
from .errors import Speech2TextError, describe_os_error, missing_package
from .transcribe import Transcriber, Transcript, load_transcriber


@dataclass(frozen=True)
class TranscriberSpec:
    """Everything needed to build a Transcriber in another process (all picklable).

    runtime: "onnx" (backends.OnnxBackend, no torch) or "torch"; decoding: how every file is decoded.
    """

    runtime: str = "onnx"
    model: str | None = None
    threads: int = 1
    quantize: str | None = None
    decoding: DecodingOptions = DecodingOptions()
    max_duration_s: float | None = MAX_DURATION_S  # longer files are refused before decoding (None: no limit)

    def load(self) -> Transcriber:
        """The Transcriber, with its LM loaded for decoder "lm". Raises ValueError / OSError on bad inputs."""
        try:
            transcriber = load_transcriber(self.model, self.runtime, self.quantize, self.threads)
        except ImportError as error:  # onnxruntime, or torch on a light install
            missing = missing_package(error, f"--runtime {self.runtime}")
            if missing is None:
                raise
            raise ValueError(str(missing)) from None
        if self.decoding.decoder == "lm":
            transcriber.load_language_model(**self.decoding.lm_options())
        return transcriber


def transcribe_one(transcriber: Transcriber, spec: TranscriberSpec, path: str | Path, progress: bool = False):
    """A Transcript, or the one-line reason (str) why the file could not be transcribed.

    The header is checked first (check_length): a file too long, too short or at no speech rate costs nothing.
    stdin, a named pipe or a device is read whole (bounded, read_stream) and checked the same way."""
    from .audio import AudioError, audio_info, check_length, is_stream, load_audio, read_stream

    try:
        source = read_stream(path) if is_stream(path) else path
        check_length(audio_info(source), spec.max_duration_s)
        audio = load_audio(source) if isinstance(source, bytes) else source
        return transcriber.transcribe(audio, decoder=spec.decoding.decoder, beam_size=spec.decoding.search_beam_size,
                                      reject_silence=True, progress=progress)
    except AudioError as error:
        return str(error)
    except OSError as error:
        return error.strerror or str(error)


class LoadError(Speech2TextError):
    """The model or LM could not be loaded in a worker; the message is one line for the user."""


_worker: tuple[Transcriber, TranscriberSpec] | str | None = None


def _work(job: tuple[TranscriberSpec, str]) -> Transcript | str | LoadError:
    """Runs in a worker: the model is loaded once, on the worker's first file."""
    global _worker
    spec, path = job
    if _worker is None:
        try:
            _worker = (spec.load(), spec)
        except (ValueError, OSError) as error:
            _worker = describe_os_error(error) if isinstance(error, OSError) else str(error)
    if isinstance(_worker, str):
        return LoadError(_worker)
    return transcribe_one(_worker[0], spec, path)


def transcribe_files(paths: Iterable[str | Path], spec: TranscriberSpec, jobs: int = 2) -> Iterator[Transcript | str]:
    """For each path, in order: its Transcript, or the one-line reason it failed.

    `jobs` worker processes each load the model (spec.threads threads each) and take
    files one at a time, so a long file does not hold up the files behind it for
    longer than it takes. Raises LoadError if the model or LM cannot be loaded.
    Workers are spawned (not forked): ONNX Runtime's and torch's thread pools do
    not survive a fork.
    """
    from concurrent.futures import ProcessPoolExecutor

    paths = [str(p) for p in paths]
    with ProcessPoolExecutor(min(jobs, len(paths)) or 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            for result in pool.map(_work, [(spec, path) for path in paths]):
                if isinstance(result, LoadError):
                    raise result
                yield result
        except BaseException:  # a load error, or the caller stopped early: drop the files not yet started
            pool.shutdown(wait=True, cancel_futures=True)
            raise
