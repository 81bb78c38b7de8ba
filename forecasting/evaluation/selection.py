"""Choose what serves every series: by default a combination of diverse strong models.

What serves by default is hard to beat by construction: for each demand family an
equal-weight combination of the strong models of that family (``ANCHORS``; in M4
12 of the 17 most accurate methods were combinations, and validation rarely picks
the truly best model: Cerqueira et al. 2021, ACCURACY.md). A series leaves its
family's combination only where validation shows a gain beyond noise, across
series and across folds (``beyond_noise``): the candidate with the best mean
validation score over a pool of series (a single model, an average of the best
few, or the combination itself) replaces the pool's current choice when its gain
holds series after series and fold after fold (a paired t statistic of ``NOISE_T``
over the series x fold units), is at least ``MIN_GAIN`` of the score, and no fold
loses that much. Every such test is kept with its figures
(``Departure``) for the report.

The pools, by mode:

- ``per_class`` (the default): first all validated series, then each demand class
  (smooth, erratic, intermittent, lumpy) with at least ``MIN_CLASS_SERIES`` series,
  against what the first pool left it; a smaller class borrows the choice of the
  larger pool instead of choosing on a handful of series;
- ``global``: all validated series only;
- ``per_series``: each series' own best candidate, no test.

A ``short`` series takes what its class chose among the candidates made only of
models that fit short histories (and, for a series shorter than a season, none that
repeats a season: validated on long series, seasonal naive there is a naive
forecast of whatever the last period was); ``new`` and ``zero`` series take the
``level`` and ``zero`` rules, which need no fitted model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecasting.evaluation.departures import (
    Departure,
    departure,
    series_scores,
    validation_units,
)

KEYS = ["unique_id", "ds", "cutoff"]
MODES = ("global", "per_class", "per_series")
DEFAULT_MODE = "per_class"
#: the largest average of the best models that competes with the combinations
MAX_ENSEMBLE = 5
#: the default combination of each demand family, of the models a run validated: for
#: steady sellers the M4 statistical ensemble's smoothing and ARIMA models (ARIMA only
#: where its sample says it earns its cost, ``forecasting.evaluation.screening``); for slow movers
#: the intermittent-demand methods that forecast a rate (ACCURACY.md, section 3)
ANCHORS: dict[str, tuple[str, ...]] = {
    "frequent": ("ets", "theta", "ces", "arima"),
    "sparse": ("croston", "tsb", "adida", "imapa"),
}
#: the demand family of each Syntetos-Boylan class
FAMILIES = {"smooth": "frequent", "erratic": "frequent", "intermittent": "sparse",
            "lumpy": "sparse", "none": "sparse"}  # fmt: skip
#: a demand class chooses on its own series when it holds at least this many; fewer
#: borrow the choice made on all series
MIN_CLASS_SERIES = 10
#: what a ladder step serves when it needs no fitted model
#: the ladder steps served by a rule, and the rule (an ended series sells nothing now)
RULES = {"zero": "zero", "new": "level", "ended": "zero"}
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
    #: validation scores, for the periods no plan covers (``forecasting.serving.plans``)
    beyond_plan: Selection | None = None
    #: every test of a pool's choice, in the order made
    departures: tuple[Departure, ...] = ()
    #: what a short series of each demand class takes (with and without a whole season)
    short_choice: dict | None = None

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
        short = self.short_choice or _short_choice(
            self.scores, self.members, profile, set(short_ok), set(seasonal)
        )
        choice = _ladder_choice(validated, profile, short)
        beyond = self.beyond_plan
        beyond = beyond.for_profile(profile, short_ok, seasonal) if beyond else None
        return Selection(
            self.members, choice, self.scores, self.mode, self.table, beyond,
            self.departures, short,
        )  # fmt: skip

    def subset(self, ids: pd.Index) -> Selection:
        """The same choices for the series ``ids`` only (a partition of the panel)."""
        table = self.table
        if table is not None:
            table = table.loc[table["unique_id"].isin(ids)]
        return replace(
            self,
            choice=self.choice.loc[self.choice.index.intersection(ids)],
            scores=self.scores.loc[self.scores.index.intersection(ids)],
            table=table,
            beyond_plan=self.beyond_plan.subset(ids) if self.beyond_plan else None,
        )

    def without_table(self) -> Selection:
        """The same choices without the validation forecasts (kept elsewhere)."""
        beyond = self.beyond_plan.without_table() if self.beyond_plan else None
        return replace(self, table=None, beyond_plan=beyond)

    def tests(self) -> tuple[Departure, ...]:
        """Every test the choice made: its own, then those of the choice for the periods
        no plan covers, named so (a stranger's run served arima there, and the log and
        the Models page said nothing of why)."""
        beyond = self.beyond_plan.departures if self.beyond_plan else ()
        return self.departures + tuple(
            replace(test, pool=f"{test.pool}, periods no plan covers") for test in beyond
        )

    def describe_departures(self) -> list[str]:
        return [d.describe() for d in self.tests()]


def ensemble_name(models: list[str]) -> str:
    return "ensemble(" + "+".join(models) + ")"


def family_of(demand_class: str) -> str:
    return FAMILIES.get(demand_class, "frequent")


def fold_table(cvs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The folds' forecasts side by side: ``unique_id, ds, cutoff, y`` and a column per
    model, on the rows every model forecast. About a quarter of the memory of the
    models' own frames at fourteen candidates (the keys and the actuals once)."""
    if _views_of_one_table(list(cvs.values())):  # a catalogue's pooled folds: no join
        first = next(iter(cvs.values()))
        columns = {key: first[key] for key in [*KEYS, "y"]}
        # its columns, not a copy of them (the table is 0.4 GB at M5's 30,490 series)
        return pd.DataFrame(columns | {name: cv["yhat"] for name, cv in cvs.items()}, copy=False)
    wide = None
    for name, cv in cvs.items():
        part = cv[[*KEYS, "y", "yhat"]].rename(columns={"yhat": name})
        wide = part if wide is None else wide.merge(part.drop(columns="y"), on=KEYS, how="inner")
    return wide


def _views_of_one_table(cvs: list[pd.DataFrame]) -> bool:
    """Whether every model's folds are columns of one fold table (``folds_of``): the same
    rows in the same order, so the table is rebuilt by columns instead of joined again
    (at M5's 30,490 series, fourteen joins of 2.6 M rows)."""
    first = cvs[0]
    return len(cvs) > 1 and all(
        len(cv) == len(first)
        and all(np.shares_memory(cv[k].to_numpy(), first[k].to_numpy()) for k in KEYS)
        for cv in cvs[1:]
    )


def folds_of(wide: pd.DataFrame, name: str) -> pd.DataFrame:
    """One model's folds from a ``fold_table``, sharing its columns (no copy)."""
    columns = {"unique_id": wide["unique_id"], "ds": wide["ds"], "y": wide["y"]}
    columns |= {"yhat": wide[name], "cutoff": wide["cutoff"]}
    return pd.DataFrame(columns, copy=False)


def candidate_table(
    cvs: dict[str, pd.DataFrame],
    scales: pd.DataFrame,
    max_ensemble: int = 3,
    classes: pd.Series | None = None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Wide CV table with a column per model and per ensemble candidate.

    Ensembles are each family's combination (``ANCHORS``, of the models validated)
    and the top 2..k models ranked over all series and, with ``classes``, ranked
    within each demand class.
    """
    wide = fold_table(cvs)
    members = {name: [name] for name in cvs}
    scores = pd.DataFrame({name: series_scores(wide, scales, name) for name in cvs})

    for anchor in _anchors(list(cvs)).values():
        _add_ensemble(wide, members, anchor, list(cvs))
    groups = [scores.index]
    if classes is not None:
        labels = classes.reindex(scores.index)
        groups += [scores.index[labels == c] for c in labels.dropna().unique()]
    for index in groups:
        if len(index) == 0:
            continue
        ranked = scores.loc[index].mean().sort_values().index.tolist()
        for k in range(2, min(max_ensemble, len(ranked)) + 1):
            _add_ensemble(wide, members, ranked[:k], list(cvs))
    return wide, members


def _add_ensemble(
    wide: pd.DataFrame, members: dict[str, list[str]], models: list[str], order: list[str]
) -> None:
    """Add the equal-weight average of ``models`` (named in ``order``) as a candidate."""
    top = sorted(models, key=order.index)
    name = ensemble_name(top)
    if name not in members and len(top) > 1:
        wide[name] = wide[top].mean(axis=1)
        members[name] = top


def _anchors(models: list[str]) -> dict[str, list[str]]:
    """Each family's combination of the validated models (two or more of its models)."""
    out = {}
    for family, wanted in ANCHORS.items():
        present = [m for m in wanted if m in models]
        if len(present) >= 2:
            out[family] = sorted(present, key=models.index)
    return out


def select(
    cvs: dict[str, pd.DataFrame],
    scales: pd.DataFrame,
    mode: str = DEFAULT_MODE,
    max_ensemble: int = MAX_ENSEMBLE,
    profile: pd.DataFrame | None = None,
    short_ok: frozenset[str] | set[str] = frozenset(),
    seasonal: frozenset[str] | set[str] = frozenset(),
) -> Selection:
    """Per-series validation scores of every candidate and the choice for every series.

    ``profile`` (from ``ladder.profile_series``) gives each series' ladder step and
    demand class; without it every validated series is treated as ``long`` and
    ``smooth``. ``short_ok`` names the models that fit short histories, ``seasonal``
    those of them that need a whole season of history to be themselves.
    """
    if mode not in MODES:
        raise ValueError(f"Unknown selection mode {mode!r}; use one of {', '.join(MODES)}.")
    classes = profile["demand_class"] if profile is not None else None
    validated = {name: cv for name, cv in cvs.items() if len(cv)}
    if not validated:
        return _unvalidated(list(cvs), profile, mode)
    wide, members = candidate_table(validated, scales, max_ensemble, classes)
    for fit in (set(short_ok), set(short_ok) - set(seasonal)):  # what short series may take
        for anchor in _anchors([m for m in validated if m in fit]).values():
            _add_ensemble(wide, members, anchor, list(validated))
    units = validation_units(wide, scales, list(members))
    scores = units.groupby(level="unique_id", sort=False).mean()
    labels = (
        classes.reindex(scores.index).fillna("smooth")
        if classes is not None
        else pd.Series("smooth", index=scores.index)
    )
    anchors = {f: ensemble_name(m) for f, m in _anchors(list(validated)).items()}
    choice, departures = choose(units, labels, anchors, mode)
    short = None
    if profile is not None:
        short = _short_choice(scores, members, profile, set(short_ok), set(seasonal), units)
        choice = _ladder_choice(choice, profile, short)
    return Selection(members, choice, scores, mode, wide, None, tuple(departures), short)


def choose(
    units: pd.DataFrame, classes: pd.Series, anchors: dict[str, str], mode: str = DEFAULT_MODE
) -> tuple[pd.Series, list[Departure]]:
    """The choice per series of ``units``' candidates and the tests that made it.

    Each series starts on its family's combination (``anchors``: family -> candidate;
    where a run validated too few of the family's models, the single model that
    validates best on the family's series) and leaves it only as ``beyond_noise``
    allows, pool by pool (see the module docstring).
    """
    scores = units.groupby(level="unique_id", sort=False).mean()
    if mode == "per_series":
        return scores.idxmin(axis=1), []
    families = classes.map(family_of)
    singles = [c for c in scores.columns if not str(c).startswith("ensemble(")] or scores.columns
    start = {
        family: anchors.get(family) or scores.loc[index, singles].mean().idxmin()
        for family, index in families.groupby(families, sort=False).groups.items()
    }
    choice = families.map(start).astype(object)
    pools = [("all series", scores.index)]
    if mode == "per_class":
        for label in pd.unique(classes):
            index = classes.index[classes == label]
            if len(index) >= MIN_CLASS_SERIES and len(index) < len(scores):
                pools.append((f"{label} series", index))
    departures = []
    for label, index in pools:
        test = departure(units, choice, index, label)
        departures.append(test)
        if test.departed:
            choice[index] = test.challenger
    return choice, departures


def _short_choice(
    scores: pd.DataFrame,
    members: dict[str, list[str]],
    profile: pd.DataFrame,
    short_ok: set[str],
    seasonal: set[str],
    units: pd.DataFrame | None = None,
) -> dict:
    """What a short series of each demand class takes: ``{"whole_season": {class: c},
    "under_a_season": {class: c}}``, chosen on the long series as they are (see
    ``choose``) among the candidates made only of the models that fit its history."""
    out = {}
    for key, fit in (("whole_season", short_ok), ("under_a_season", short_ok - seasonal)):
        candidates = [c for c, m in members.items() if set(m) <= fit]
        if not candidates:
            out[key] = {}
            continue
        classes = profile["demand_class"].reindex(scores.index).fillna("smooth")
        if units is not None:
            singles = [c for c in candidates if members[c] == [c]]
            anchors = {f: ensemble_name(m) for f, m in _anchors(singles).items()}
            anchors = {f: a for f, a in anchors.items() if a in candidates}
            for family, wanted in ANCHORS.items():  # one model of its family fits: that one
                alone = [m for m in wanted if m in singles]
                if family not in anchors and len(alone) == 1:
                    anchors[family] = alone[0]
            choice, _ = choose(units[candidates], classes, anchors)
        else:  # a stored selection without its folds: the best mean score per class
            choice = classes.map(scores[candidates].groupby(classes).mean().idxmin(axis=1))
        by_class = choice.groupby(classes).agg(lambda s: s.mode().iloc[0]).to_dict()
        by_class["*"] = choice.mode().iloc[0]
        out[key] = by_class
    return out


def _ladder_choice(choice: pd.Series, profile: pd.DataFrame, short: dict) -> pd.Series:
    """Extend the validated choice to every series of the profile, by ladder step."""
    whole = profile.get("whole_season", True)
    key = pd.Series(np.where(whole, "whole_season", "under_a_season"), index=profile.index)

    def for_short(uid: str) -> str:
        table = short.get(key[uid]) or short.get("whole_season") or {}
        return table.get(profile.at[uid, "demand_class"], table.get("*", RULES["new"]))

    out = profile["ladder_step"].map(RULES).astype(object)
    # a short series, and a long one with no validation fold (a slow mover whose folds
    # held no sale), take what a short series of its class takes: a fitted model, as
    # the rules' levels are kept only for the rules' steps
    fitted = profile.index[out.isna()]
    out[fitted] = [for_short(uid) for uid in fitted]
    validated = choice.index.intersection(out.index)
    validated = validated.difference(profile.index[profile["ladder_step"] == "ended"])
    out[validated] = choice[validated]
    return out


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
