"""kiosk.core.heap: free heap pages really go back to the system."""

from __future__ import annotations

import subprocess
import sys

# Frees 200 MB of 4 kB blocks below a block that stays, so glibc cannot shrink the heap's top by itself.
CHILD = """
import os
from kiosk.core.heap import release_free_heap

def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

blocks = [bytes(4000) for _ in range(50000)]
fence = bytes(4000)
del blocks
before = rss()
done = release_free_heap()
print(before, rss(), done)
"""


def test_freed_heap_memory_leaves_the_process():
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    before, after, done = result.stdout.split()
    assert done == "True"
    assert int(before) - int(after) > 150 * 2**20, (before, after)
