"""Integration tests: the folder gives the level (tests/conftest.py)."""
