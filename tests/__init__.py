"""The test suite as a package, so ``tests.conftest`` is ours and not a site-packages ``tests``."""
