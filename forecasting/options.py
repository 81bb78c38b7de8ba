"""What a training run is asked: the candidates, tuning, folds and the selection rule."""

from __future__ import annotations

from dataclasses import dataclass

from forecasting.models import ALWAYS, MODELS, check_names
from forecasting.selection import DEFAULT_MODE, MAX_ENSEMBLE


@dataclass
class TrainOptions:
    #: the models asked for; None: the default, every model, each expensive one validated
    #: on a sample of series first (``forecasting.screening``)
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

    def screened(self) -> set[str]:
        """The expensive models that earn their place on a sample first: those of the
        default set. A model a run names is validated on every series."""
        if self.models is not None:
            return set()
        return {m for m in self.model_names() if MODELS[m].expensive}
