"""The backtest's phases timed from inside its own process (``bench/cost.py --child``):
hooks on the workflow's functions and on every model's ``fit``, ``predict`` and
``forward``, and the seconds before the first of them (start-up and imports)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


#: workflow functions and the phase they stand for, by module; a name missing from a
#: version of the code is skipped, so the same hooks measure the code before and after
PHASES = {
    "pipeline.adhoc": {"prepare": "loading"},
    "forecasting.evaluation.validation": {"select": "selection"},
    "forecasting.workflow": {
        "profile_series": "ladder",
        "choose_drivers": "drivers",
        "validate": "validation",
        "validate_models": "validation",
        "screen": "screening",
        "select": "selection",
        "refit": "holdout fit",
        "fit_models": "holdout fit",
        "refit_without_drivers": "holdout fit",
        "build_serving": "intervals",
        "evaluate": "scoring",
        "summarize": "scoring",
        "coverage": "scoring",
        "coverage_by_step": "scoring",
    },
}


MODEL_METHODS = ("fit", "predict", "forward")


class Clock:
    """Exclusive seconds per phase (a nested phase pauses its parent) and per model."""

    def __init__(self) -> None:
        self.stack: list[list] = []
        self.phases: dict[str, float] = {}
        self.models: dict[tuple[str, str], float] = {}
        self.peaks: dict[str, float] = {}

    @property
    def phase(self) -> str:
        return self.stack[-1][0] if self.stack else "other"

    def enter(self, phase: str) -> None:
        now = time.perf_counter()
        if self.stack:
            top = self.stack[-1]
            self.phases[top[0]] = self.phases.get(top[0], 0.0) + now - top[1]
        self.stack.append([phase, now])

    def leave(self) -> None:
        now = time.perf_counter()
        phase, began = self.stack.pop()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - began
        if self.stack:
            self.stack[-1][1] = now


def install_hooks(clock: Clock) -> None:
    import importlib
    import importlib.util

    def phased(fn, phase):
        def wrapper(*args, **kwargs):
            clock.enter(phase)
            try:
                return fn(*args, **kwargs)
            finally:
                clock.leave()

        return wrapper

    for module_name, names in PHASES.items():
        found = importlib.util.find_spec(module_name)
        if found is None or not str(found.origin).startswith(str(ROOT)):
            continue  # older code (bench/cost.py run on a checkout from before a module)
        module = importlib.import_module(module_name)
        for fname, phase in names.items():
            if hasattr(module, fname):
                setattr(module, fname, phased(getattr(module, fname), phase))

    from forecasting.models import MODELS
    from forecasting.serving.model import ServingModel

    ServingModel.forecast_with_members = phased(
        ServingModel.forecast_with_members, "holdout forecast"
    )

    from forecasting.models.base import Forecaster

    depth = threading.local()

    def timed(fn):
        """Seconds of the outermost fit, predict or forward call, for the instance's model."""

        def wrapper(self, *args, **kwargs):
            if getattr(depth, "n", 0):
                return fn(self, *args, **kwargs)
            depth.n = 1
            started = time.perf_counter()
            try:
                return fn(self, *args, **kwargs)
            finally:
                depth.n = 0
                key = (self.name, clock.phase)
                clock.models[key] = clock.models.get(key, 0.0) + time.perf_counter() - started

        return wrapper

    for method in MODEL_METHODS:
        if hasattr(Forecaster, method):
            setattr(Forecaster, method, timed(getattr(Forecaster, method)))
    for cls in MODELS.values():  # a model that overrides one of them (none today)
        for method in MODEL_METHODS:
            if method in cls.__dict__:
                setattr(cls, method, timed(cls.__dict__[method]))


def child_backtest(argv: list[str], out: str, spawned: float) -> None:
    """The real command line, ``pipeline backtest``, with its phases timed."""
    clock = Clock()
    clock.phases["start-up and imports"] = time.time() - spawned
    clock.enter("start-up and imports")
    from pipeline import adhoc, cli  # the imports the command makes before any data

    _ = adhoc
    install_hooks(clock)
    clock.leave()

    stop = threading.Event()

    def sample() -> None:
        me = psutil.Process()
        while not stop.is_set():
            rss = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    rss += p.memory_info().rss
            label = clock.phase
            clock.peaks[label] = max(clock.peaks.get(label, 0.0), rss / 2**20)
            stop.wait(0.2)

    threading.Thread(target=sample, daemon=True).start()
    clock.enter("writing")  # what is left outside every phase: printing and the JSON
    code = cli.main(["backtest", *argv, "--json", out + ".scores.json"])
    clock.leave()
    stop.set()
    scores = json.loads(Path(out + ".scores.json").read_text()) if code == 0 else {}
    Path(out).write_text(
        json.dumps(
            {
                "code": code,
                "phases": clock.phases,
                "models": [[m, p, s] for (m, p), s in clock.models.items()],
                "peaks": clock.peaks,
                "scores": scores,
            }
        )
    )
