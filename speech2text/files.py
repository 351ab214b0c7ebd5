"""Files written whole or not at all: the one atomic writer of transcripts, LMs, checkpoints and logs; the one
rule that no output is an input; and bounded reads of inputs that have no size (stdin, pipes, devices)."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, OutputError

# stdin, a named pipe or a device has no size to check first and is read whole into memory: at most this much.
MAX_STREAM_BYTES = 512 * 2**20
PIPE_WAIT_S = 10.0  # a named pipe that gives nothing for this long (no writer) is given up


@contextlib.contextmanager
def atomic_path(path: str | Path, replace: bool = True) -> Iterator[Path]:
    """A temporary name beside `path` (.NAME.tmpPID) to write to; renamed onto `path` when the block
    ends, removed if it fails. Readers, and other processes writing the same name, see the old file
    or the new one, never half of one; a kill mid-write leaves only the temporary (train cleans those).

    With replace=False an existing `path` is kept and FileExistsError raised: the temporary is hard-linked
    to its name, which the kernel does only if no file has it, so of two processes that both checked
    that the name was free, one wins and the other is told, never both."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        if replace:
            os.replace(tmp, path)
        else:
            _link_exclusively(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _link_exclusively(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links (FAT, some network mounts): check, then rename
        if path.exists():
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(tmp, path)


def write_text_atomically(path: str | Path, text: str, replace: bool = True) -> None:
    with atomic_path(path, replace) as tmp:
        tmp.write_text(text)


def _same_file(a: Path, b: Path) -> bool:
    """Whether two names reach one file: the same resolved path (symlinks followed), or one inode (hard links)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet: no file to share
        return False


def refuse_overwriting_input(output: str | Path, inputs, folder: bool = False) -> None:
    """A command never writes over its own input: OutputError (a ValueError) when `output` is one of `inputs`
    (a symlink or hard link to one included), or, with folder=True, when an input lies inside the folder
    `output`, where the command writes. The one rule for every command's outputs."""
    output = Path(output)
    for source in map(Path, inputs):
        if _same_file(output, source):
            raise OutputError(f"{output}: this is also an input; write the output somewhere else")
        if folder and output.resolve() in source.resolve().parents:
            raise OutputError(f"{output}: holds the input {source}, which the output could replace; "
                              "write the output somewhere else")


def is_stream(source: str | Path) -> bool:
    """Whether `source` is stdin (`-`), a named pipe, `<(...)` or a device: read once, whole, with no size to check."""
    if str(source) == "-":
        return True
    try:
        mode = os.stat(source).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def _too_much() -> InputError:
    return InputError(f"more than {MAX_STREAM_BYTES >> 20} MiB from a stream; give a file instead")


def read_stream(source: str | Path) -> bytes:
    """The bytes of stdin (`-`), a named pipe or a device, at most MAX_STREAM_BYTES (InputError past that).

    A named pipe is opened without blocking and each read waits at most PIPE_WAIT_S: a pipe that no process
    writes to would otherwise hang for ever. Written here, as no reader library bounds a pipe's reads in time.
    """
    if str(source) == "-":
        data = sys.stdin.buffer.read(MAX_STREAM_BYTES + 1)
        if len(data) > MAX_STREAM_BYTES:
            raise _too_much()
        return data
    try:
        descriptor = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise InputError(error.strerror or str(error)) from None
    chunks, size = [], 0
    try:
        poller = select.poll()
        poller.register(descriptor, select.POLLIN)
        while True:
            if not poller.poll(PIPE_WAIT_S * 1000):
                raise InputError(f"nothing came through this pipe for {PIPE_WAIT_S:g} s (does anything write to it?)")
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_STREAM_BYTES:
                raise _too_much()
            chunks.append(chunk)
    finally:
        os.close(descriptor)


def read_input_bytes(path: str | Path) -> bytes:
    """A text input whole: a file as it is, stdin, a pipe or a device bounded (read_stream)."""
    return read_stream(path) if is_stream(path) else Path(path).read_bytes()
