"""Reading audio: any file soundfile can read (wav, flac, ogg, mp3), any rate, any channels.

This is the only module that reads audio files. Everything downstream sees
float32 mono samples at SAMPLE_RATE.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from . import files
from .errors import InputError, Speech2TextError
from .files import is_stream

SAMPLE_RATE = 16_000
SILENCE_PEAK = 1e-4  # -80 dBFS: below this a whole recording holds no speech
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 192_000  # telephone speech up to studio audio; past these, not speech
MIN_SPEECH_S = 0.05  # no spoken word is shorter
MAX_DURATION_S = 4 * 3600  # transcribe --max-duration-s: files longer than this are refused before decoding


class AudioError(Speech2TextError, ValueError):
    """A file that cannot be used as speech: missing, unreadable, empty or corrupt."""


def resample(samples: np.ndarray, orig_rate: int, new_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling of float32 mono samples with soxr.

    The same resampler (and quality) as read_blocks' streaming one, so that training
    (whole files) and transcription (files in blocks) hear the same 8 kHz or 44.1 kHz audio.
    """
    if orig_rate == new_rate:
        return samples
    import soxr

    return soxr.resample(np.ascontiguousarray(samples, dtype=np.float32), orig_rate, new_rate).astype(np.float32, copy=False)


# What soundfile raises for files it cannot decode (LibsndfileError is a RuntimeError).
UNREADABLE = (soundfile.LibsndfileError, RuntimeError, TypeError, EOFError)


def _unreadable(error: Exception) -> AudioError:
    return AudioError(f"not a readable audio file ({getattr(error, 'error_string', error)})")


def _read(source) -> tuple[np.ndarray, int]:
    try:
        samples, rate = soundfile.read(source, dtype="float32", always_2d=True)
    except UNREADABLE as error:
        raise _unreadable(error) from None
    return samples, rate


def read_stream(source: str | Path) -> bytes:
    """stdin (`-`), a named pipe or a device, whole and bounded (speech2text.files.read_stream)."""
    try:
        return files.read_stream(source)
    except InputError as error:
        raise AudioError(str(error)) from None


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, read before any decoding."""

    sample_rate: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def audio_info(source: str | Path | bytes) -> AudioInfo:
    """The header of a file or of raw file bytes; AudioError if it is not audio (a stream: read_stream it first)."""
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise AudioError("empty input")
        target = io.BytesIO(source)
    else:
        target = str(_checked_path(source, warn=False))
    try:
        info = soundfile.info(target)
    except UNREADABLE as error:
        raise _unreadable(error) from None
    return AudioInfo(info.samplerate, info.frames)


def audio_duration_s(path: str | Path) -> float:
    return audio_info(path).duration_s


def check_rate(sample_rate: int) -> None:
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(f"a sample rate of {sample_rate} Hz is not speech audio "
                         f"(from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz)")


def check_length(info: AudioInfo, max_duration_s: float | None = MAX_DURATION_S) -> None:
    """Before decoding: AudioError for a rate outside speech's, audio too short to hold a word, or longer
    than `max_duration_s` (None: no limit). A header that lies (1 Hz, a day of silence) costs nothing this way."""
    check_rate(info.sample_rate)
    if info.frames == 0:
        raise AudioError("the audio has no samples")
    if info.duration_s < MIN_SPEECH_S:
        raise AudioError(f"too short to hold speech ({info.frames} sample{'s' if info.frames != 1 else ''} "
                         f"at {info.sample_rate} Hz)")
    if max_duration_s is not None and info.duration_s > max_duration_s:
        raise AudioError(f"{info.duration_s:,.0f} s long, over the limit of {max_duration_s:,.0f} s "
                         "(--max-duration-s)")


def _checked_path(source: str | Path, warn: bool = True) -> Path:
    """`source` if it is a file that may hold audio; AudioError naming why not. warn: say if it is a truncated WAV
    (off for a look at the header alone, which the file's reading follows)."""
    path = Path(source)
    if not path.exists():
        raise AudioError("no such file")
    if path.is_dir():
        raise AudioError("is a directory, not an audio file")
    if is_stream(path):
        raise AudioError("a pipe or device, not a file: read_stream it")
    if path.stat().st_size == 0:
        raise AudioError("empty file (0 bytes)")
    try:
        with open(path, "rb") as f:
            head = f.read(64 * 1024)
    except OSError as error:  # e.g. no read permission: say so, not "not a readable audio file"
        raise AudioError(error.strerror or str(error)) from None
    if warn:
        _warn_if_truncated_wav(path, head)
    return path


def _warn_if_truncated_wav(path: Path, head: bytes) -> None:
    """A WAV whose data chunk is shorter than its header says: libsndfile reads what is there without a word,
    so say it here. Written by hand because no reader reports it; RIFF chunks are (id, little-endian size)."""
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    offset = 12
    while offset + 8 <= len(head):
        chunk, size = head[offset : offset + 4], int.from_bytes(head[offset + 4 : offset + 8], "little")
        if chunk == b"data":
            available = path.stat().st_size - (offset + 8)
            if size not in (0, 0xFFFFFFFF) and available < size:  # 0 and 2^32-1: streamed WAVs of unknown size
                print(f"speech2text: warning: {path}: truncated WAV ({available:,} of {size:,} data bytes); "
                      "reading what is there", file=sys.stderr)
            return
        offset += 8 + size + (size & 1)


def load_audio(source: str | Path | bytes, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read a file, `-` (stdin) or raw file bytes into float32 mono samples at `sample_rate`.

    Channels are averaged; integer formats are scaled to [-1, 1]. Raises AudioError
    with a one-line reason for missing, empty, corrupt or non-finite audio.
    Returns shape (samples,).
    """
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        if not data:
            raise AudioError("empty input")
        samples, rate = _read(io.BytesIO(data))
    elif is_stream(source):
        return load_audio(read_stream(source), sample_rate)
    else:
        samples, rate = _read(_checked_path(source))
    check_rate(rate)
    if samples.shape[0] == 0:
        raise AudioError("the audio has no samples")
    if not np.isfinite(samples).all():
        raise AudioError("the audio contains NaN or infinite samples")
    mono = samples.mean(axis=1, dtype=np.float32)
    return resample(mono, rate, sample_rate).astype(np.float32, copy=False)


def check_not_silent(samples: np.ndarray) -> None:
    """Raise AudioError if no sample reaches SILENCE_PEAK."""
    if float(np.abs(samples).max(initial=0.0)) < SILENCE_PEAK:
        raise AudioError("the audio is silent")


def read_blocks(source: str | Path, block_s: float = 10.0, sample_rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """A file as consecutive float32 mono blocks at `sample_rate`, never all in memory.

    Same checks and errors as load_audio, raised when the bad part is reached.
    Resampling uses soxr's streaming resampler, which keeps its filter state
    across blocks, so the joined blocks have no seams.
    """
    if is_stream(source):  # read once, whole
        yield load_audio(source, sample_rate)
        return
    path = _checked_path(source)
    try:
        info = soundfile.info(str(path))
    except UNREADABLE as error:
        raise _unreadable(error) from None
    check_rate(info.samplerate)
    resampler = None
    if info.samplerate != sample_rate:
        import soxr

        resampler = soxr.ResampleStream(info.samplerate, sample_rate, 1, dtype="float32")
    blocks = soundfile.blocks(str(path), blocksize=max(1, int(block_s * info.samplerate)), dtype="float32", always_2d=True)
    total = 0
    while True:
        try:
            block = next(blocks, None)
        except UNREADABLE as error:
            raise _unreadable(error) from None
        last = block is None
        mono = np.zeros(0, np.float32) if last else block.mean(axis=1, dtype=np.float32)
        if not np.isfinite(mono).all():
            raise AudioError("the audio contains NaN or infinite samples")
        total += len(mono)
        if last and total == 0:
            raise AudioError("the audio has no samples")
        if resampler is not None:
            mono = resampler.resample_chunk(mono, last=last)
        if len(mono):
            yield mono
        if last:
            return
