"""Reading a file that someone else may have put there: looked at on the open file before a byte is read.

The kiosk config, the login token, secrets files, photos and usage logs are read through `read_limited`: opened
without blocking (a FIFO without a writer would hang the reader) and, where asked, without following a symlink as
the last part of the path; then fstat on the open file (no race with a rename in between) must show a regular file
of at most the stated size, and no more than that size is ever read (a file that grows meanwhile is refused too).
A device like /dev/zero, a FIFO, a folder or a sparse 30 GB file is refused at once, with a sentence saying why.
No Qt.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


class FileRefused(ValueError):
    """The file is not one to read: the message starts with the path and says why (English, for logs and admins);
    `reason` says it for a caller with its own words: folder, link, special (device, pipe, socket) or large."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _size(limit: int) -> str:
    if limit >= 1 << 20 and limit % (1 << 20) == 0:
        return f"{limit >> 20} MiB"
    if limit >= 1 << 10 and limit % (1 << 10) == 0:
        return f"{limit >> 10} KiB"
    return f"{limit} bytes"


def open_regular(path: str | os.PathLike, max_bytes: int, *, follow_symlinks: bool = True) -> BinaryIO:
    """The file opened for reading once it is a regular file of at most max_bytes (the checks in this module's
    docstring); FileRefused saying why it is not one, OSError as it comes for a missing or forbidden file. For
    readers that stream (usage logs): the size is the file's on disk, what they unpack they bound themselves."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise FileRefused(f"{path} is a folder, not a file", "folder") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise FileRefused(f"{path} is a symbolic link, not the file itself", "link") from None
        raise
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused(f"{path} is a folder, not a file", "folder")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{path} is not a regular file (a device, pipe or socket)", "special")
        if info.st_size > max_bytes:
            raise FileRefused(f"{path} is larger than {_size(max_bytes)}", "large")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: str | os.PathLike, max_bytes: int, *, follow_symlinks: bool = True) -> bytes:
    """The whole content of a regular file of at most max_bytes; FileRefused saying why it is not one, OSError as it
    comes for a file that is missing or not allowed. Never more than max_bytes + 1 are read (a file that grows
    after the look is refused too)."""
    with open_regular(path, max_bytes, follow_symlinks=follow_symlinks) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileRefused(f"{path} is larger than {_size(max_bytes)}", "large")
    return data
