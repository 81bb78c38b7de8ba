"""What a serving model keeps of each series' history, made from one frame or from a
catalogue a partition of whole series at a time.

Every fact is a series' own (its scale, sign, rule level, last season of drivers,
price range, own closures) but one: the holidays the whole panel is closed on, judged
on the panel's total. So a catalogue's facts are each partition's, stacked, and its
total summed over the partitions: the serving model of a run by partition equals the
whole run's without any process holding every row (issue 30).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecasting.data.closures import series_closures, with_panel_closures
from forecasting.data.spec import DataSpec
from forecasting.evaluation.metrics import naive_scale
from forecasting.evaluation.selection import RULES

#: the panel's first and last period
Span = tuple[pd.Timestamp, pd.Timestamp]


@dataclass(frozen=True)
class SeriesFacts:
    """Per series, what the serving model reads of the history (``of``), and the panel's
    total per period that its shared closures are judged on."""

    #: the seasonal naive scale the bands' quantiles are in units of
    scale: pd.Series
    nonnegative: pd.Series
    #: ``level, last_ds`` of the series a rule serves (None without a profile)
    rule_levels: pd.DataFrame | None
    driver_tail: pd.DataFrame | None
    driver_range: pd.DataFrame | None
    own_closures: pd.DataFrame
    #: ``ds, y``: every series summed per period
    total: pd.DataFrame
    #: the series that sold at least once
    selling: pd.Index
    #: ``unique_id`` and the attributes
    keys: pd.DataFrame

    @classmethod
    def of(
        cls,
        df: pd.DataFrame,
        spec: DataSpec,
        span: Span,
        profile: pd.DataFrame | None = None,
        on_rule: pd.Index | None = None,
    ) -> SeriesFacts:
        """The facts of ``df``'s series in a panel of ``span``; ``on_rule``: those of
        ``profile``'s series that a rule serves (their level is kept)."""
        grouped = df.groupby("unique_id", sort=False)["y"]
        scale = series_scales(df, spec)
        rule_levels = None
        if profile is not None:
            rows = df.loc[df["unique_id"].isin(on_rule)].groupby("unique_id", sort=False)
            rule_levels = pd.DataFrame({"level": rows["y"].mean(), "last_ds": rows["ds"].max()})
            step = profile.loc[rule_levels.index, "ladder_step"]
            rule_levels.loc[step.isin(["zero", "ended"]), "level"] = 0.0
            # an ended series is forecast from the file's end, where every series' starts
            rule_levels.loc[step == "ended", "last_ds"] = span[1]
            # a new series' own naive scale rests on a few points: never narrower than its level
            new = rule_levels.index[rule_levels["level"] != 0]
            scale[new] = np.maximum(scale[new], rows["y"].apply(lambda y: y.abs().mean())[new])
        highest = grouped.max()
        attributes = [c for c in spec.attributes if c in df.columns]
        return cls(
            scale=scale,
            nonnegative=grouped.min() >= 0,
            rule_levels=rule_levels,
            driver_tail=driver_tail(df, spec),
            driver_range=price_range(df, spec),
            own_closures=series_closures(df, spec, span),
            total=df.groupby("ds", as_index=False)["y"].sum(),
            selling=highest.index[highest > 0],
            keys=df[["unique_id", *attributes]].drop_duplicates("unique_id", ignore_index=True),
        )

    @classmethod
    def joined(cls, parts: list[SeriesFacts]) -> SeriesFacts:
        """The facts of partitions of whole series as those of their panel."""

        def stacked(frames):
            kept = [f for f in frames if f is not None]
            return pd.concat(kept) if kept else None

        total = pd.concat([p.total for p in parts]).groupby("ds", as_index=False)["y"].sum()
        rule_levels = stacked(p.rule_levels for p in parts)
        tails = stacked(p.driver_tail for p in parts)
        return cls(
            scale=pd.concat([p.scale for p in parts]),
            nonnegative=pd.concat([p.nonnegative for p in parts]),
            rule_levels=rule_levels,
            driver_tail=None if tails is None else tails.reset_index(drop=True),
            driver_range=stacked(p.driver_range for p in parts),
            own_closures=pd.concat([p.own_closures for p in parts], ignore_index=True),
            total=total,
            selling=pd.Index(np.concatenate([p.selling.to_numpy() for p in parts])),
            keys=pd.concat([p.keys for p in parts], ignore_index=True),
        )

    def in_panel(self, total: pd.DataFrame) -> SeriesFacts:
        """These facts as those of a part of a panel whose total is ``total``: its shared
        closures are the panel's, as in a backtest of the whole panel."""
        return replace(self, total=total)

    def span(self) -> Span:
        """The panel's first and last period."""
        return self.total["ds"].min(), self.total["ds"].max()

    def closures(self, spec: DataSpec, span: Span) -> pd.DataFrame:
        """``unique_id, holiday``: each series' own closures and the panel's."""
        return with_panel_closures(self.own_closures, self.total, self.selling, spec, span)


def ruled_series(profile: pd.DataFrame, choice: pd.Series) -> pd.Index:
    """The series a rule serves: the ladder's rule steps, and any series the choice gives
    a rule (a file of short series only, where nothing could be validated, is served its
    levels)."""
    ruled = choice.reindex(profile.index).isin(set(RULES.values()))
    return profile.index[profile["ladder_step"].isin(RULES) | ruled.to_numpy()]


def series_scales(df: pd.DataFrame, spec: DataSpec) -> pd.Series:
    """Per series, the seasonal naive scale that the bands' quantiles are in units of."""
    grouped = df.groupby("unique_id", sort=False)["y"]
    return grouped.apply(lambda y: naive_scale(y.to_numpy(float), spec.season_length, 1))


def price_range(df: pd.DataFrame, spec: DataSpec) -> pd.DataFrame | None:
    """Per series, each price's lowest and highest value in the history."""
    prices = [name for name in spec.prices if name in df.columns]
    if not prices:
        return None
    by = df.groupby("unique_id", sort=False)[prices]
    low, high = by.min().add_suffix("_min"), by.max().add_suffix("_max")
    return pd.concat([low, high], axis=1)


def driver_tail(df: pd.DataFrame, spec: DataSpec) -> pd.DataFrame | None:
    """Each series' last season of drivers (``unique_id, ds`` and the drivers)."""
    if not spec.exog or not set(spec.exog) <= set(df.columns):
        return None
    tail = df.groupby("unique_id", sort=False).tail(spec.season_length)
    return tail[["unique_id", "ds", *spec.exog]].reset_index(drop=True)
