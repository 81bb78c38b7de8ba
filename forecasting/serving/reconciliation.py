"""Totals that add up: bottom-up, or reconciled with a model of each total, by validation.

Every total the product shows (the company, a store, a category) is the sum of its
series' forecasts, so it is coherent whatever happens here. What this module
decides is which series forecasts those are: the served ones as they are
(bottom-up), or the same moved by MinT with shrinkage (``hierarchicalforecast``),
which also listens to an AutoETS model fitted on each total's own history (a
store's sum is smoother than its items and often forecast better on its own).
Reconciliation serves only when it wins on the validation folds, scored on every
level (each series, the total, every group) with each fold's weights estimated
on the other folds' errors; otherwise bottom-up serves.

Only the validated series are reconciled (the others keep their rule or short-
history forecast and are added to the sums as they are). Each series' adjustment
is worked out under the data set's plan and kept: a what-if of the served forecast
adds the same adjustment (what a plan moves is what its drivers move), and another
model's forecast is the sum of its series as they come.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend

from forecasting.evaluation.metrics import naive_scale
from forecasting.evaluation.selection import Selection, combine
from forecasting.progress import checkpoint
from forecasting.serving.coherence import AGGREGATE, BOTTOM_UP, MINT, Coherence
from forecasting.serving.requests import ForecastRequest, answer

#: reconciliation serves when its validation score (mean MASE over the levels) is at
#: least this much lower than bottom-up's
MARGIN = 0.02
#: above this many validated series the weights' matrix is too large: bottom-up serves
MAX_SERIES = 5_000
#: the share of zero validation errors beyond which MinT is not tried (the library
#: refuses its weights near there: "Insample residuals close to 0")
ZERO_ERRORS = 0.9
#: the totals' models see at most this many periods of history: a year of days (AutoETS
#: with a weekly season learns it from the recent weeks; on Favorita two years cost
#: twice as much for a validation MASE of 1.178 against 1.184), seven years of weeks
HISTORY = 365


def level_nodes(keys: pd.DataFrame, columns: list[str]) -> dict[str, pd.Series]:
    """Per level, each series' node: the total, and each attribute with 2 or more groups
    that are fewer than the series. A column that groups the series exactly as an
    earlier one does (a code's description beside the code) is the same level, once."""
    ids = keys["unique_id"]
    levels = {"total": pd.Series("total", index=ids.to_numpy())}
    seen: set[tuple] = set()
    for col in columns:
        values = keys[col].astype(str)
        if 1 < values.nunique() < len(keys):
            grouping = tuple(pd.factorize(values)[0])
            if grouping in seen:
                continue
            seen.add(grouping)
            levels[col] = pd.Series((col + "=" + values).to_numpy(), index=ids.to_numpy())
    return levels


def summing_matrix(series: list[str], levels: dict[str, pd.Series]) -> tuple[np.ndarray, list]:
    """``S`` (aggregates on top, then the series) and the node names in its row order."""
    rows, names = [], []
    for level in levels.values():
        node = level.reindex(series)
        for name in sorted(node.unique()):
            rows.append((node == name).to_numpy(float))
            names.append(name)
    return np.vstack([*rows, np.eye(len(series))]), names + list(series)


@dataclass
class Hierarchy:
    """The validated series, their levels' nodes, and the summing matrix over both."""

    series: list[str]
    levels: dict[str, pd.Series]
    S: np.ndarray
    names: list[str]
    #: the validation folds' frames, worked out once (``folds``): choosing how the totals
    #: are made and the adjustment where MinT serves read the same ones
    folds_: list[dict] | None = field(default=None, repr=False)
    #: each total's ETS form, searched on its first fold and kept after (weights refitted)
    forms: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, table: pd.DataFrame, keys: pd.DataFrame, columns: list[str]) -> Hierarchy:
        series = sorted(table["unique_id"].unique())
        levels = level_nodes(keys.loc[keys["unique_id"].isin(series)], columns)
        return cls(series, levels, *summing_matrix(series, levels))

    @property
    def aggregates(self) -> list[str]:
        return self.names[: len(self.names) - len(self.series)]

    def folds(
        self,
        table: pd.DataFrame,
        served: pd.Series,
        df: pd.DataFrame,
        season_length: int,
        freq: str,
    ) -> list[dict]:
        """``fold_frames`` of this hierarchy's validation ``table``, fitted once."""
        if self.folds_ is None:
            scored = table.assign(served=served.to_numpy())
            self.folds_ = fold_frames(scored, self, df, season_length, freq)
        return self.folds_


def reconcilable(table: pd.DataFrame) -> bool:
    """Whether the validated series are enough to reconcile, and few enough to afford it."""
    return 2 <= table["unique_id"].nunique() <= MAX_SERIES


def aggregate(df: pd.DataFrame, levels: dict[str, pd.Series]) -> pd.DataFrame:
    """``unique_id`` (the node), ``ds``, ``y``: each aggregate's history."""
    parts = []
    for level in levels.values():
        node = df["unique_id"].map(level)
        parts.append(
            df.assign(unique_id=node).groupby(["unique_id", "ds"], as_index=False)["y"].sum()
        )
    return pd.concat(parts, ignore_index=True)


def total_forecasts(
    history: pd.DataFrame, h: int, season_length: int, freq: str, forms: dict[str, str]
) -> pd.DataFrame:
    """AutoETS on each aggregate's own history: ``unique_id, ds, yhat``.

    A node in ``forms`` (its ETS form from an earlier fold) keeps that form and only
    its weights are fitted again; the others search every form and add theirs to
    ``forms``. The search costs about ten times a fit of one form: on M5's 31 totals,
    three searched folds took 3.3 s of a 32 s run.
    """
    checkpoint()  # a cancelled run stops here; a long step is not taken for a stall
    tail = history.groupby("unique_id", sort=False).tail(HISTORY)
    parts, search = [], []
    for uid, node in tail.groupby("unique_id", sort=False):
        yhat = _with_form(node["y"].to_numpy(float), h, season_length, forms.get(uid))
        if yhat is None:
            search.append(uid)
            continue
        ds = pd.date_range(node["ds"].iloc[-1], periods=h + 1, freq=freq)[1:]
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "yhat": yhat}))
    if search:
        parts.append(
            _searched(tail.loc[tail["unique_id"].isin(search)], h, season_length, freq, forms)
        )
    return pd.concat(parts, ignore_index=True)


def _with_form(y: np.ndarray, h: int, season_length: int, form: str | None) -> np.ndarray | None:
    """The forecast of ETS in ``form`` (its weights fitted on ``y``); ``None`` without a
    form or when it does not fit this history (the node searches again)."""
    from statsforecast.models import AutoETS

    if form is None:
        return None
    damped = form[3] != "N" if form[1] != "N" else None
    try:
        model = AutoETS(season_length=season_length, model=form[:3], damped=damped)
        return model.forecast(y=y, h=h)["mean"]
    except Exception:  # statsforecast's own errors: a season the history cannot hold
        return None


def _searched(
    tail: pd.DataFrame, h: int, season_length: int, freq: str, forms: dict[str, str]
) -> pd.DataFrame:
    """Every form searched, by AICc, on the run's joblib workers; each node's form kept.

    Why not statsforecast's own ``n_jobs``: its pool forks the run's process, which
    by now holds BLAS and OpenMP thread pools and the run's watcher threads; a child
    forked from it can wait forever on a lock no thread of its own will release
    (runs hung at "final fit on all history" in CI). joblib's workers start afresh."""
    backend, n_jobs = get_active_backend()  # the run's workers (train step: --jobs)
    uids = tail["unique_id"].unique()
    workers = min(max(1, backend.effective_n_jobs(n_jobs)), len(uids))
    if workers == 1:
        found = [_search(tail, h, season_length, freq)]
    else:
        batches = [tail.loc[tail["unique_id"].isin(b)] for b in np.array_split(uids, workers)]
        found = Parallel(n_jobs=workers)(
            delayed(_search)(batch, h, season_length, freq) for batch in batches
        )
    for _, batch_forms in found:
        forms.update(batch_forms)
    return pd.concat([out for out, _ in found], ignore_index=True)


def _search(
    tail: pd.DataFrame, h: int, season_length: int, freq: str
) -> tuple[pd.DataFrame, dict[str, str]]:
    """AutoETS's search on the nodes of ``tail``, in this process: forecasts and forms."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    model = StatsForecast(models=[AutoETS(season_length=season_length)], freq=freq, n_jobs=1)
    model.fit(df=tail)
    forms = {
        str(uid): "".join(fitted.model_["components"])
        for uid, fitted in zip(model.uids, model.fitted_[:, 0], strict=True)
    }
    out = model.predict(h=h)
    out = out.reset_index() if "unique_id" not in out.columns else out
    return out.rename(columns={"AutoETS": "yhat"})[["unique_id", "ds", "yhat"]], forms


def reconcile(S: np.ndarray, base: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """MinT with a shrunk error covariance: every node's reconciled forecast. Where the
    errors are almost all zero (series fitted exactly) MinT's weights are undefined and
    ``hierarchicalforecast`` refuses them: the series' own forecasts, added up."""
    from hierarchicalforecast.methods import MinTrace

    if np.isclose(errors, 0).mean() > ZERO_ERRORS:
        return S @ base[-S.shape[1] :]  # the bottom rows are the series (``Hierarchy``)

    out = MinTrace(method=MINT).fit_predict(
        S=S, y_hat=base, y_insample=errors, y_hat_insample=np.zeros_like(errors)
    )
    return out["mean"]


def choose(
    table: pd.DataFrame,
    served: pd.Series,
    df: pd.DataFrame,
    keys: pd.DataFrame,
    columns: list[str],
    season_length: int,
    freq: str,
    tree: Hierarchy | None = None,
) -> Coherence:
    """Bottom-up or MinT, by the validation folds of ``table`` (``unique_id, cutoff, ds,
    y``; ``served`` the served validation forecast of each row). ``tree``: the hierarchy
    of ``table``, when the caller keeps it for the adjustment too."""
    if not reconcilable(table):
        if table["unique_id"].nunique() < 2:
            return Coherence(BOTTOM_UP, note="one validated series: nothing to reconcile")
        return Coherence(BOTTOM_UP, note=f"over {MAX_SERIES:,} validated series")
    tree = tree or Hierarchy.of(table, keys, columns)
    scored = validation_scores(table, served, df, tree, season_length, freq)
    if scored is None:
        return Coherence(BOTTOM_UP, note="one validation fold: no held-apart weights")
    validation, levels = scored
    better = validation[MINT]["mean"] <= (1 - MARGIN) * validation[BOTTOM_UP]["mean"]
    return Coherence(MINT if better else BOTTOM_UP, validation, levels)


def validation_scores(
    table: pd.DataFrame,
    served: pd.Series,
    df: pd.DataFrame,
    tree: Hierarchy,
    season_length: int,
    freq: str,
) -> tuple[dict, list[str]] | None:
    """Per way of making the totals, the mean validation MASE of each level and of all
    levels, fold by fold with MinT's weights from the other folds; ``None`` with one fold.

    Besides the two coherent ways (bottom-up, MinT) the table keeps the totals' own
    AutoETS models (``AGGREGATE``: each aggregate forecast alone, the series as served),
    which do not add up and are reported, never served."""
    if table["cutoff"].nunique() < 2:  # before the totals' models are fitted on each fold
        return None
    folds = tree.folds(table, served, df, season_length, freq)
    if len(folds) < 2:
        return None
    first = table.loc[table["cutoff"] == table["cutoff"].min()]
    start = first.groupby("unique_id")["ds"].min()
    scale = node_scales(df, tree.levels, start, season_length, tree.names)
    scores = {BOTTOM_UP: [], AGGREGATE: [], MINT: []}
    for k, fold in enumerate(folds):
        others = np.hstack([f["errors"] for j, f in enumerate(folds) if j != k])
        made = {
            BOTTOM_UP: tree.S @ fold["bottom"],
            AGGREGATE: fold["base"],
            MINT: reconcile(tree.S, fold["base"], others),
        }
        for method, got in made.items():
            scores[method].append(np.abs(fold["actual"] - got).mean(axis=1) / scale)
    level_of = level_names(tree.names, tree.levels)
    validation = {m: level_means(np.mean(p, axis=0), level_of) for m, p in scores.items()}
    return validation, [*tree.levels, "series"]


def level_means(node_mase: np.ndarray, level_of: pd.Series) -> dict[str, float]:
    """Each level's mean over its nodes, and the mean of the levels (every level counts
    the same however many nodes it has)."""
    by_level = pd.Series(node_mase, index=level_of.index).groupby(level_of.to_numpy()).mean()
    return {**{k: round(float(v), 4) for k, v in by_level.items()},
            "mean": round(float(by_level.mean()), 4)}  # fmt: skip


def adjustment(
    forecast: pd.DataFrame,
    table: pd.DataFrame,
    served: pd.Series,
    df: pd.DataFrame,
    keys: pd.DataFrame,
    columns: list[str],
    season_length: int,
    freq: str,
    tree: Hierarchy | None = None,
) -> pd.DataFrame:
    """Where MinT serves: ``unique_id, ds, delta`` to add to the served ``forecast`` (all
    history's models, every period stored), with weights from every validation fold
    (``tree``'s, fitted once, when ``choose`` had it)."""
    tree = tree or Hierarchy.of(table, keys, columns)
    series = tree.series
    folds = tree.folds(table, served, df, season_length, freq)
    errors = np.hstack([f["errors"] for f in folds])
    rows = forecast.loc[forecast["unique_id"].isin(series)]
    wide = rows.pivot(index="unique_id", columns="ds", values="yhat").reindex(series)
    wide = wide.dropna(axis=1)  # the periods every validated series has
    h = wide.shape[1]
    mine = df.loc[df["unique_id"].isin(series)]
    totals = total_forecasts(aggregate(mine, tree.levels), h, season_length, freq, tree.forms)
    top = totals.pivot(index="unique_id", columns="ds", values="yhat")
    top = top.reindex(tree.aggregates).to_numpy()
    base = np.vstack([top, wide.to_numpy()])
    moved = reconcile(tree.S, base, errors)[-len(series) :] - wide.to_numpy()
    delta = pd.DataFrame(moved, index=wide.index, columns=wide.columns)
    delta = delta.stack().rename("delta").reset_index()
    return delta.rename(columns={"level_1": "ds"}) if "level_1" in delta else delta


def fold_frames(
    table: pd.DataFrame, tree: Hierarchy, df: pd.DataFrame, season_length: int, freq: str
) -> list[dict]:
    """Per validation fold: base forecasts of every node (AutoETS for the aggregates, the
    served forecast for the series), the served bottoms, the actuals and the errors."""
    series = tree.series
    mine = df.loc[df["unique_id"].isin(series)]
    folds = []
    for _fold, part in table.groupby("cutoff", sort=True):
        bottom = part.pivot(index="unique_id", columns="ds", values="served").reindex(series)
        actual_b = part.pivot(index="unique_id", columns="ds", values="y").reindex(series)
        keep = bottom.notna().all() & actual_b.notna().all()
        bottom, actual_b = bottom.loc[:, keep], actual_b.loc[:, keep]
        if bottom.shape[1] == 0:
            continue
        start = part.groupby("unique_id")["ds"].min()  # each series' fold begins here
        past = aggregate(mine.loc[mine["ds"] < mine["unique_id"].map(start)], tree.levels)
        totals = total_forecasts(past, bottom.shape[1], season_length, freq, tree.forms)
        top = totals.pivot(index="unique_id", columns="ds", values="yhat")
        top = top.reindex(tree.aggregates).to_numpy()[:, : bottom.shape[1]]
        base = np.vstack([top, bottom.to_numpy()])
        actual = tree.S @ actual_b.to_numpy()
        folds.append(
            {"base": base, "bottom": bottom.to_numpy(), "actual": actual, "errors": actual - base}
        )
    return folds


def node_scales(
    df: pd.DataFrame, levels: dict, start: pd.Series, season_length: int, names: list
) -> np.ndarray:
    """Each node's naive scale on its history before ``start`` (each series' first scored
    period: its first validation fold, or the held-out window)."""
    mine = df.loc[df["ds"] < df["unique_id"].map(start)]
    nodes = pd.concat([aggregate(mine, levels), mine[["unique_id", "ds", "y"]]])
    scale = nodes.groupby("unique_id")["y"].apply(
        lambda y: naive_scale(y.to_numpy(float), season_length, 1)
    )
    return scale.reindex(names).fillna(1.0).to_numpy()


def level_names(names: list[str], levels: dict[str, pd.Series]) -> pd.Series:
    """Each node's level (``series`` for the series)."""
    which = {}
    for level, nodes in levels.items():
        for name in nodes.unique():
            which[name] = level
    return pd.Series([which.get(n, "series") for n in names], index=names)


def coherent(
    serving, selection: Selection, df: pd.DataFrame, spec, stored_horizon: int
) -> Coherence:
    """Choose how the served forecast's sums are made (bottom-up or MinT) on the
    validation folds of the backtest's ``selection``; where MinT serves, fit the totals'
    models on all history and keep each series' adjustment over the ``stored_horizon``
    periods of ``serving``'s forecast."""
    table = selection.table
    if table is None or table.empty:
        return Coherence(BOTTOM_UP, note="nothing validated")
    columns = [c for c in spec.attributes if c in df.columns]
    keys = df[["unique_id", *columns]].drop_duplicates("unique_id")
    served = combine(table, selection)
    table = table.loc[served.notna()]
    served = served.loc[served.notna()]
    freq, m = spec.freq.alias, spec.season_length
    # one hierarchy for the choice and the adjustment: the totals' models on each fold
    # are fitted once
    tree = Hierarchy.of(table, keys, columns) if reconcilable(table) else None
    chosen = choose(table, served, df, keys, columns, m, freq, tree)
    if chosen.method == MINT:
        base = answer(serving, ForecastRequest(stored_horizon)).rows
        delta = adjustment(base, table, served, df, keys, columns, m, freq, tree)
        chosen = replace(chosen, delta=delta)
    return chosen
