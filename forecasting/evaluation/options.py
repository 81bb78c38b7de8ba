"""What a training run is asked: the candidates, tuning, folds and the selection rule."""

from __future__ import annotations

from dataclasses import dataclass, replace

from forecasting.evaluation.selection import DEFAULT_MODE, MAX_ENSEMBLE
from forecasting.models import ALWAYS, MODELS, check_names

#: why the models that learn across series sit out a file of one series
ONE_SERIES = (
    "it learns one pattern across many series, and this file has one series and no "
    "driver: on a single series it is an autoregression that rarely beats the statistical "
    "models (M4: none of the pure machine-learning methods beat the Comb benchmark); "
    "name it among the models to fit it anyway"
)


@dataclass
class TrainOptions:
    #: the models asked for; None: the default, every model, each expensive one validated
    #: on a sample of series first (``forecasting.evaluation.screening``)
    models: tuple[str, ...] | None = None
    trials: int = 0
    timeout: float | None = None
    n_windows: int = 3
    selection: str = DEFAULT_MODE
    max_ensemble: int = MAX_ENSEMBLE
    tune_series: int | None = 30
    storage: str | None = None
    study_prefix: str = "sales"
    #: "auto": keep each driver of the spec that validation says helps; "all": keep them all
    drivers: str = "auto"
    #: whether the models that use drivers keep a price's and a promotion's effect signs
    constraints: bool = True

    #: candidates whatever a run names: the baselines and the intermittent-demand methods
    always: tuple[str, ...] = ALWAYS
    #: the candidates when a run names none
    default: tuple[str, ...] = tuple(MODELS)

    def model_names(self) -> list[str]:
        """The models asked for plus those that are always candidates, in registry order."""
        asked = self.default if self.models is None else self.models
        check_names([*asked, *self.always])
        wanted = {*self.always, *asked}
        return [m for m in MODELS if m in wanted]

    def for_panel(self, series: int, drivers: bool) -> tuple[TrainOptions, dict[str, str]]:
        """These options for a panel of ``series`` series, and the default models they
        leave out, with why: on one series with no driver, the models that learn across
        series. A model a run names is always fitted."""
        if self.models is not None or series != 1 or drivers:
            return self, {}
        lone = [m for m in self.default if MODELS[m].learns_across_series]
        kept = tuple(m for m in self.default if m not in lone)
        return replace(self, default=kept), {m: ONE_SERIES for m in lone}

    def screened(self) -> set[str]:
        """The expensive models that earn their place on a sample first: those of the
        default set. A model a run names is validated on every series."""
        if self.models is not None:
            return set()
        return {m for m in self.model_names() if MODELS[m].expensive}
