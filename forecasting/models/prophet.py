"""Prophet per series, with the country's holidays and the drivers as regressors."""

from __future__ import annotations

import logging

import pandas as pd

from forecasting.data.calendar import holiday_table
from forecasting.models.local import LocalForecaster

#: the periods a fit reads by default: 800 days hold two yearly seasons and a bit
DEFAULT_HISTORY = 800


def _quiet() -> None:
    """CmdStan and Prophet log every fit at INFO; keep run logs readable."""
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.WARNING)
    logging.getLogger("prophet.plot").disabled = True


_quiet()


class ProphetModel(LocalForecaster):
    """Facebook Prophet; uses the CmdStan bundled in its wheel (no download).

    It fits on the last ``history`` periods (800 days: yearly seasonality is fitted from
    two years on, and a fit costs less than half what five years of M5 days cost).
    """

    name = "prophet"
    expensive = True
    series_seconds = 0.07
    period_seconds = 9e-5

    @classmethod
    def fitted_periods(cls, periods, season):
        return min(periods, 800)

    def __init__(
        self,
        changepoint_prior_scale: float = 0.05,
        seasonality_prior_scale: float = 10.0,
        seasonality_mode: str = "additive",
        history: int | None = DEFAULT_HISTORY,
    ):
        self.changepoint_prior_scale = changepoint_prior_scale
        self.seasonality_prior_scale = seasonality_prior_scale
        self.seasonality_mode = seasonality_mode
        self.history = history

    def _fit_one(self, y, X, ds):
        _quiet()
        from prophet import Prophet

        if self.history:
            y, ds = y[-self.history :], ds[-self.history :]
            X = X[-self.history :] if X is not None else None
        alias = self.spec_.freq.alias
        years = (ds[-1] - ds[0]).days / 365.25
        holidays = None
        if self.spec_.country and alias == "D":
            holidays = holiday_table(self.spec_.country, ds[0], ds[-1] + pd.Timedelta(days=800))
        settings = dict(
            changepoint_prior_scale=self.changepoint_prior_scale,
            seasonality_prior_scale=self.seasonality_prior_scale,
            seasonality_mode=self.seasonality_mode,
            weekly_seasonality=alias == "D",
            daily_seasonality=False,
            yearly_seasonality=years >= 2,
            holidays=holidays,
            uncertainty_samples=0,
        )
        frame = pd.DataFrame({"ds": ds, "y": y})
        for j, name in enumerate(self.spec_.exog):
            frame[name] = X[:, j]
        kept = [name for name in self.spec_.exog if frame[name].nunique() > 1]
        while True:  # a regressor whose effect comes out with the wrong sign is dropped
            model = Prophet(**settings)
            for name in kept:
                model.add_regressor(name)
            model.fit(frame[["ds", "y", *kept]])
            wrong = [name for name in kept if _wrong_sign(model, name, self.spec_)]
            if not wrong:
                break
            kept = [name for name in kept if name not in wrong]
        model.drivers_kept = kept
        return _compact(model)

    def _predict_one(self, state, X, ds):
        frame = pd.DataFrame({"ds": ds})
        kept = getattr(state, "drivers_kept", list(self.spec_.exog))
        for j, name in enumerate(self.spec_.exog):
            if name in kept:
                frame[name] = X[:, j]
        return state.predict(frame)["yhat"].to_numpy()

    @staticmethod
    def search_space(trial, spec):
        year = spec.freq.periods_per_year
        return {
            "changepoint_prior_scale": trial.suggest_float(
                "changepoint_prior_scale", 1e-3, 0.5, log=True
            ),
            "seasonality_prior_scale": trial.suggest_float(
                "seasonality_prior_scale", 0.01, 10.0, log=True
            ),
            "seasonality_mode": trial.suggest_categorical(
                "seasonality_mode", ["additive", "multiplicative"]
            ),
            # A recent window often forecasts better than all history, and fits faster;
            # the default window is a choice too (Optuna enqueues it as the first trial)
            "history": trial.suggest_categorical(
                "history", list(dict.fromkeys([DEFAULT_HISTORY, None, year, 2 * year]))
            ),
        }


def _wrong_sign(model, name: str, spec) -> bool:
    """Whether a fitted regressor's effect on sales has the sign its role forbids."""
    from prophet.utilities import regressor_coefficients

    sign = spec.effect_sign(name)
    if not sign:
        return False
    table = regressor_coefficients(model).set_index("regressor")
    return bool(sign * float(table.loc[name, "coef"]) < 0)


def _compact(model):
    """Drop what forecasting never reads (the Stan handles, the full history) to keep model
    files small; with ``uncertainty_samples=0`` predict needs parameters and scalings only."""
    model.stan_backend = None
    model.stan_fit = None
    model.history = model.history.tail(1)
    return model
