"""Choose what the product serves for every series: a model, or an average of the best few.

Candidates are every model plus equal-weight ensembles of the top 2..k models
by validation score (combinations win in M4 and M5), ranked over all series
and within each demand class. The choice for a series that has validation
folds (the ladder's ``long`` step) is made by its validation score:

- ``global``: the candidate with the best mean score over all series;
- ``per_class``: the best candidate of each demand class (smooth, erratic,
  intermittent, lumpy) with at least ``MIN_CLASS_SERIES`` series, the global
  choice for smaller classes;
- ``per_series``: each series' own best.

A ``short`` series takes the best candidate of its demand class among those
made only of models that fit short histories (and, for a series shorter than a
season, none that repeats a season: validated on long series, seasonal naive
there is a naive forecast of whatever the last period was); ``new`` and ``zero`` series take
the ``level`` and ``zero`` rules, which need no fitted model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.backtest import validation_score

KEYS = ["unique_id", "ds", "cutoff"]
MODES = ("global", "per_class", "per_series")
#: the default rule, chosen by bench/selection.py on five public sales data sets: per demand
#: class; an average of up to five of the best models serves when it beats the best single
#: model by 10% on validation, or by any amount that holds series after series (a paired t
#: statistic of 2 over at least ``MIN_CLASS_SERIES`` series). One series needs the 10%;
#: Walmart's 2,660 needed the test (a 3% lead on every kind of series: 0.770 / 0.622 held
#: out, where the best single model scored 0.814 / 0.659)
DEFAULT_MODE = "per_class"
MAX_ENSEMBLE = 5
ENSEMBLE_MARGIN = 0.10
ENSEMBLE_TEST = True
#: a demand class chooses its own candidate when it holds at least this many validated series
MIN_CLASS_SERIES = 10
#: and serves it only when it beats the global choice on that class by this paired t statistic
CLASS_T_STAT = 2.0
#: what a ladder step serves when it needs no fitted model
RULES = {"zero": "zero", "new": "level"}
#: what short series are served when no series could be validated, in order of preference
UNVALIDATED_DEFAULT = ("ets", "theta", "naive")


@dataclass
class Selection:
    members: dict[str, list[str]]
    #: the candidate served for every series (a model, an ensemble or a rule)
    choice: pd.Series
    #: validation score of every candidate for every validated series
    scores: pd.DataFrame
    mode: str
    #: the validation forecasts, one column per candidate (calibrates the intervals)
    table: pd.DataFrame | None = None
    #: where drivers serve: the choice among the driver-free candidates, by their own
    #: validation scores, for the periods no plan covers (``forecasting.plans``)
    beyond_plan: Selection | None = None

    def served_models(self) -> set[str]:
        own = {m for cand in set(self.choice) for m in self.members.get(cand, [])}
        return own | (self.beyond_plan.served_models() if self.beyond_plan else set())

    def for_profile(
        self, profile: pd.DataFrame, short_ok: set[str], seasonal: set[str] = frozenset()
    ) -> Selection:
        """The same validated choices, extended by the ladder to the series of ``profile``
        (all history, where a series may have climbed a step since validation)."""
        validated = self.choice.loc[self.choice.index.intersection(self.scores.index)]
        if self.scores.empty:
            return _unvalidated(list(self.members), profile, self.mode)
        choice = _ladder_choice(validated, self.scores, self.members, profile, short_ok, seasonal)
        beyond = self.beyond_plan
        beyond = beyond.for_profile(profile, short_ok, seasonal) if beyond else None
        return Selection(self.members, choice, self.scores, self.mode, self.table, beyond)


def ensemble_name(models: list[str]) -> str:
    return "ensemble(" + "+".join(models) + ")"


def candidate_table(
    cvs: dict[str, pd.DataFrame],
    scales: pd.DataFrame,
    max_ensemble: int = 3,
    classes: pd.Series | None = None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Wide CV table with a column per model and per ensemble candidate.

    Ensembles are the top 2..k models ranked over all series and, with
    ``classes``, ranked within each demand class.
    """
    wide = None
    for name, cv in cvs.items():
        part = cv[[*KEYS, "y", "yhat"]].rename(columns={"yhat": name})
        wide = part if wide is None else wide.merge(part.drop(columns="y"), on=KEYS, how="inner")
    members = {name: [name] for name in cvs}
    scores = pd.DataFrame({name: validation_score(wide, scales, name) for name in cvs})
    groups = [scores.index]
    if classes is not None:
        labels = classes.reindex(scores.index)
        groups += [scores.index[labels == c] for c in labels.dropna().unique()]
    for index in groups:
        if len(index) == 0:
            continue
        ranked = scores.loc[index].mean().sort_values().index.tolist()
        for k in range(2, min(max_ensemble, len(ranked)) + 1):
            top = sorted(ranked[:k], key=list(cvs).index)
            name = ensemble_name(top)
            if name not in members:
                wide[name] = wide[top].mean(axis=1)
                members[name] = top
    return wide, members


def select(
    cvs: dict[str, pd.DataFrame],
    scales: pd.DataFrame,
    mode: str = DEFAULT_MODE,
    max_ensemble: int = MAX_ENSEMBLE,
    profile: pd.DataFrame | None = None,
    short_ok: frozenset[str] | set[str] = frozenset(),
    ensemble_margin: float = ENSEMBLE_MARGIN,
    seasonal: frozenset[str] | set[str] = frozenset(),
    ensemble_test: bool = ENSEMBLE_TEST,
) -> Selection:
    """Per-series validation scores of every candidate and the choice for every series.

    ``profile`` (from ``ladder.profile_series``) gives each series' ladder step and
    demand class; without it every validated series is treated as ``long``. An
    ensemble is chosen over the best single model only when its validation score is
    lower by more than ``ensemble_margin`` (a share: 0.05 = 5%) or, with
    ``ensemble_test``, lower by a paired t statistic of ``CLASS_T_STAT`` over the
    ``MIN_CLASS_SERIES`` or more series that share the choice (``clearly_better``).
    ``seasonal`` names
    the short-fit models that need a whole season of history to be themselves.
    """
    if mode not in MODES:
        raise ValueError(f"Unknown selection mode {mode!r}; use one of {', '.join(MODES)}.")
    classes = profile["demand_class"] if profile is not None else None
    validated = {name: cv for name, cv in cvs.items() if len(cv)}
    if not validated:
        return _unvalidated(list(cvs), profile, mode)
    wide, members = candidate_table(validated, scales, max_ensemble, classes)
    scores = pd.DataFrame({name: validation_score(wide, scales, name) for name in members})
    choice = _validated_choice(scores, mode, classes, members, ensemble_margin, ensemble_test)
    if profile is not None:
        choice = _ladder_choice(choice, scores, members, profile, short_ok, seasonal)
    return Selection(members, choice, scores, mode, wide)


def _validated_choice(
    scores: pd.DataFrame,
    mode: str,
    classes: pd.Series | None,
    members: dict[str, list[str]],
    margin: float,
    test: bool = False,
) -> pd.Series:
    singles = [c for c in scores.columns if len(members[c]) == 1]

    def best(rows: pd.DataFrame | pd.Series) -> str:
        """The choice for a group of series' scores, or one series' (a row: margin only)."""
        grouped = isinstance(rows, pd.DataFrame)
        means = rows.mean() if grouped else rows
        single = means[singles].idxmin()
        overall = means.idxmin()
        if means[overall] < (1 - margin) * means[single]:
            return overall
        if test and grouped and len(rows) >= MIN_CLASS_SERIES:
            return overall if clearly_better(rows[single], rows[overall]) else single
        return single

    if mode == "per_series":
        return scores.apply(best, axis=1)
    overall = best(scores)
    choice = pd.Series(overall, index=scores.index)
    if mode == "per_class" and classes is not None:
        labels = classes.reindex(scores.index)
        for _, rows in scores.groupby(labels, sort=False):
            own = best(rows)
            if len(rows) >= MIN_CLASS_SERIES and clearly_better(rows[overall], rows[own]):
                choice[rows.index] = own
    return choice


def clearly_better(incumbent: pd.Series, challenger: pd.Series) -> bool:
    """Whether the challenger's per-series scores beat the incumbent's beyond noise.

    A paired t statistic of at least ``CLASS_T_STAT``: a class of ten series whose
    best candidate is 1% ahead on average has chosen by luck as often as not.
    """
    return paired_t(incumbent, challenger) >= CLASS_T_STAT


def paired_t(incumbent: pd.Series, challenger: pd.Series) -> float:
    """The paired t statistic of the challenger's gain over the incumbent, series by
    series (infinite when every series gains the same; 0 without a mean gain)."""
    gain = (incumbent - challenger).to_numpy(float)
    gain = gain[np.isfinite(gain)]
    if len(gain) < 2 or gain.mean() <= 0:
        return 0.0
    spread = gain.std(ddof=1)
    return float("inf") if spread == 0 else float(gain.mean() / (spread / np.sqrt(len(gain))))


def _ladder_choice(
    choice: pd.Series,
    scores: pd.DataFrame,
    members: dict[str, list[str]],
    profile: pd.DataFrame,
    short_ok: frozenset[str] | set[str],
    seasonal: frozenset[str] | set[str] = frozenset(),
) -> pd.Series:
    """Extend the validated choice to every series of the profile, by ladder step."""
    short = _best_short(scores, members, profile, set(short_ok))
    if "whole_season" in profile and seasonal:
        unseasoned = _best_short(scores, members, profile, set(short_ok) - set(seasonal))
        short = short.where(profile["whole_season"], unseasoned)
    out = profile["ladder_step"].map(RULES).fillna(short).astype(object)
    validated = choice.index.intersection(out.index)
    out[validated] = choice[validated]
    return out


def _best_short(
    scores: pd.DataFrame, members: dict[str, list[str]], profile: pd.DataFrame, fit: set[str]
) -> pd.Series:
    """Per series of the profile, the best validated candidate of its demand class made
    only of the models in ``fit`` (the best over all classes where its class has none)."""
    candidates = [c for c, m in members.items() if set(m) <= fit]
    if not candidates:
        return pd.Series(RULES["new"], index=profile.index, dtype=object)
    short_scores = scores[candidates]
    labels = profile["demand_class"].reindex(scores.index)
    by_class = short_scores.groupby(labels).mean().idxmin(axis=1).to_dict()
    return profile["demand_class"].map(by_class).fillna(short_scores.mean().idxmin())


def _unvalidated(models: list[str], profile: pd.DataFrame | None, mode: str) -> Selection:
    """No series is long enough for a validation fold: serve a robust default."""
    default = next((m for m in UNVALIDATED_DEFAULT if m in models), RULES["new"])
    members = {name: [name] for name in models if not name.startswith("ensemble(")}
    index = profile.index if profile is not None else pd.Index([])
    steps = profile["ladder_step"] if profile is not None else pd.Series(dtype=object)
    choice = pd.Series(
        [RULES.get(t, default) for t in steps], index=index, dtype=object, name="choice"
    )
    return Selection(members, choice, pd.DataFrame(index=index), mode, None)


def combine(forecasts: pd.DataFrame, selection: Selection, column: str = "yhat") -> pd.Series:
    """The served value per row of a wide frame with one column per model (rules excluded)."""
    out = pd.Series(index=forecasts.index, dtype=float)
    chosen = forecasts["unique_id"].map(selection.choice)
    for cand in chosen.dropna().unique():
        if cand not in selection.members:
            continue
        rows = chosen == cand
        out[rows] = forecasts.loc[rows, selection.members[cand]].mean(axis=1)
    return out
