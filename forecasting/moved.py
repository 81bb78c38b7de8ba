"""Modules that moved keep answering to their old names, for what was pickled with them.

A run's serving model is stored with joblib and registered in MLflow with
cloudpickle; both write each class's module path. When a module moves (the
serving room became ``forecasting.serving``, the flat modules
folders of their own), the models stored before still name
the old path. This finder answers an import of an old name with the module at
its new place, so they load unchanged; new code imports the new names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType

#: old module path -> where it lives now
MOVED = {
    "forecasting.serving_model": "forecasting.serving.model",
    "forecasting.requests": "forecasting.serving.requests",
    "forecasting.plans": "forecasting.serving.plans",
    "forecasting.coherence": "forecasting.serving.coherence",
    "forecasting.appending": "forecasting.data.appending",
    "forecasting.calendar": "forecasting.data.calendar",
    "forecasting.cleaning": "forecasting.data.cleaning",
    "forecasting.columns": "forecasting.data.columns",
    "forecasting.dataset": "forecasting.data.dataset",
    "forecasting.dates": "forecasting.data.dates",
    "forecasting.driver_kinds": "forecasting.data.driver_kinds",
    "forecasting.eda": "forecasting.data.eda",
    "forecasting.frequency": "forecasting.data.frequency",
    "forecasting.gaps": "forecasting.data.gaps",
    "forecasting.ladder": "forecasting.data.ladder",
    "forecasting.limits": "forecasting.data.limits",
    "forecasting.loading": "forecasting.data.loading",
    "forecasting.mapping": "forecasting.data.mapping",
    "forecasting.numbers": "forecasting.data.numbers",
    "forecasting.positions": "forecasting.data.positions",
    "forecasting.schema": "forecasting.data.schema",
    "forecasting.seasonality": "forecasting.data.seasonality",
    "forecasting.spec": "forecasting.data.spec",
    "forecasting.wide": "forecasting.data.wide",
    "forecasting.features": "forecasting.models.features",
    "forecasting.backtest": "forecasting.evaluation.backtest",
    "forecasting.costs": "forecasting.evaluation.costs",
    "forecasting.drivers": "forecasting.evaluation.drivers",
    "forecasting.group_bands": "forecasting.evaluation.group_bands",
    "forecasting.intervals": "forecasting.evaluation.intervals",
    "forecasting.metrics": "forecasting.evaluation.metrics",
    "forecasting.options": "forecasting.evaluation.options",
    "forecasting.realised": "forecasting.evaluation.realised",
    "forecasting.screening": "forecasting.evaluation.screening",
    "forecasting.selection": "forecasting.evaluation.selection",
    "forecasting.tuning": "forecasting.evaluation.tuning",
    "forecasting.validation": "forecasting.evaluation.validation",
    "forecasting.why": "forecasting.evaluation.why",
    "forecasting.effects": "forecasting.serving.effects",
}


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import an old module path as the module now at ``MOVED[path]``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> ModuleType:
        module = importlib.import_module(MOVED[spec.name])
        self._own_spec = module.__spec__  # the import system sets the old name's spec
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self._own_spec  # the module keeps its own name and place


def install() -> None:
    """Put the finder on the import path once (``forecasting/__init__.py`` does)."""
    if not any(isinstance(f, MovedModules) for f in sys.meta_path):
        sys.meta_path.append(MovedModules())
