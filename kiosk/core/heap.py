"""Gives the C heap's free pages back to the system (glibc's malloc_trim), where the C library has it."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)


def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_free_heap() -> bool:
    """Return free heap memory to the system; False where the C library cannot (not glibc)."""
    libc = _libc()
    if libc is None:
        return False
    # glibc keeps freed memory in its arenas for reuse; after the call page's renderer is freed the browser side
    # has tens of MiB of such free pages that a resident at home will not need for minutes (docs/benchmarks.md).
    libc.malloc_trim(0)
    return True
