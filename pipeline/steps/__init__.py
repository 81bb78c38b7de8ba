"""The pipeline's steps: plain functions of a ``RunContext`` and what earlier steps produced."""
