"""Hyperparameters as constructor arguments, the scikit-learn convention, without scikit-learn.

A model's hyperparameters are the arguments of its ``__init__``, stored under the
same names and never changed by ``fit``; ``get_params`` reads them and ``clone``
builds an unfitted copy from them (scikit-learn's ``BaseEstimator`` and ``clone``).
Importing scikit-learn for this alone cost every run a second of start-up before
its first fit, most of a one-series backtest's budget; the tree models import it
when they fit.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, TypeVar

T = TypeVar("T", bound="Parameters")


class Parameters:
    """``get_params``, ``set_params`` and a readable ``repr`` from ``__init__``'s arguments."""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            p.name
            for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self: T, **params: Any) -> T:
        unknown = set(params) - set(self._param_names())
        if unknown:
            raise ValueError(f"{type(self).__name__} has no parameter {', '.join(sorted(unknown))}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def clone(model: T) -> T:
    """An unfitted copy with the same hyperparameters (copied, so the two never share one)."""
    return type(model)(**copy.deepcopy(model.get_params()))
