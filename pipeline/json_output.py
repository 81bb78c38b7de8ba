"""JSON that strict parsers accept: NaN and infinities become null.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON; a browser's
``JSON.parse`` and most clients refuse them. A score that could not be computed
(a series never sold has no ADI; a model with no validation fold has no score)
is written as null instead, by the API, the command line's ``--json`` and the
EDA report alike.
"""

from __future__ import annotations

import json
import math
from typing import Any


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float (also inside lists and dicts) as ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that never writes NaN or Infinity (fast when there is none)."""
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:
        return json.dumps(json_safe(value), allow_nan=False, **kwargs)
