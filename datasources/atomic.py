"""Rewrite a file so that readers see the old or the new version, never a mix.

The new content goes to a temporary file in the same folder, is flushed to
disk, and is renamed over the original; the folder is flushed too, so the
rename survives a power cut. A lock (a thread lock for this process and
``flock`` on a sidecar ``.<name>.lock`` file for all processes) keeps two
write-backs of one file from interleaving.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings

from datasources.errors import SourceError

_registry_lock = threading.Lock()
_thread_locks: dict[Path, threading.Lock] = {}


@dataclass(frozen=True)
class FileSignature:
    """What identifies one version of a file: change time, size and inode."""

    mtime_ns: int
    size: int
    inode: int


def file_signature(path: Path) -> FileSignature:
    """Return the current signature of ``path``."""
    info = path.stat()
    return FileSignature(info.st_mtime_ns, info.st_size, info.st_ino)


def lock_path_for(path: Path) -> Path:
    """Return the sidecar lock file of ``path``."""
    return path.with_name(f".{path.name}.lock")


def _thread_lock(path: Path) -> threading.Lock:
    with _registry_lock:
        return _thread_locks.setdefault(path, threading.Lock())


@contextlib.contextmanager
def file_lock(path: Path, *, display: str = "") -> Iterator[None]:
    """Hold the write lock of ``path`` across threads and processes, or fail after a timeout."""
    timeout = settings.SHIPOPS_SOURCE_LOCK_SECONDS
    deadline = time.monotonic() + timeout
    busy = SourceError(
        "source_busy",
        f'"{display or path.name}" is being written by another task; try again shortly.',
        source=display,
    )
    thread_lock = _thread_lock(path)
    if not thread_lock.acquire(timeout=timeout):
        raise busy
    try:
        # flock needs no write access, so workers running as another user can share the file.
        fd = os.open(lock_path_for(path), os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise busy from None
                    time.sleep(0.02)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        thread_lock.release()


def _remove_stale_temporaries(path: Path) -> None:
    # Only the lock holder writes temporaries, so any left over come from a crash.
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        leftover.unlink(missing_ok=True)


def atomic_write(
    path: Path,
    write: Callable[[IO[bytes]], None],
    *,
    expected: FileSignature | None = None,
    display: str = "",
) -> FileSignature:
    """Replace ``path`` with what ``write`` produces and return the new file's signature.

    The caller holds ``file_lock(path)``. ``expected`` is the signature the
    file had when the caller read it: if someone saved the file since,
    nothing is replaced and SourceError says so.
    """
    _remove_stale_temporaries(path)
    temp: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            temp = Path(handle.name)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        shutil.copymode(path, temp)
        # A rename keeps inode, size and mtime: this is the signature the file will have.
        written = file_signature(temp)
        if expected is not None and file_signature(path) != expected:
            raise SourceError(
                "source_changed",
                f'"{display or path.name}" was changed by someone else while tracking numbers '
                "were being written; nothing was written, try again.",
                source=display,
            )
        os.replace(temp, path)
    except BaseException:
        if temp is not None:
            temp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return written


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
