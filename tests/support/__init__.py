"""Helpers the tests share, and ``bench/`` may import without importing a test: frames,
files a planner exports (``files``), and the processes and servers the tests start."""
