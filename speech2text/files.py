"""Files written whole or not at all: the one atomic writer of transcripts, LMs, checkpoints and logs."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path


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
