"""Freed memory goes back to the system at a partition's end (``forecasting.memory``)."""

from __future__ import annotations

import sys

import psutil

from forecasting.memory import release_memory


def test_pages_freed_between_survivors_go_back_to_the_system():
    """What a partition leaves: most of its allocations freed, a few survivors spread
    among them (its fits), so the heap cannot shrink from its top. Trimming returns the
    free pages in between."""
    assert sys.platform == "linux"  # the product's hosts: glibc's malloc_trim is there
    process = psutil.Process()
    chunks = [bytearray(1_000) for _ in range(300_000)]  # 300 MB, each past pymalloc
    survivors = chunks[::50]
    del chunks
    held = process.memory_info().rss
    assert release_memory()
    returned = held - process.memory_info().rss
    assert returned > 150e6, f"only {returned / 1e6:.0f} MB went back"
    assert len(survivors) == 6_000
