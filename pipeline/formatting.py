"""How scores are shown: every score table (pages and command line) goes through here.

A model that diverged for a series can score 5e21 or inf; printed as a number
it reads like a result and wrecks a chart's axis. Scale-free scores (MASE,
RMSSE, WAPE, sMAPE, MAPE, bias, the validation score) above ``ABSURD`` in
size, or infinite, are shown as "diverged"; so are the scale-bound ones (MAE,
RMSE) of a row whose scale-free scores diverged, and any that is infinite.
NaN is not divergence: ``forecasting.evaluation.metrics`` returns it where a score is
undefined (MAPE or WAPE of a window whose actuals are all zero), shown blank.
"""

from __future__ import annotations

import math

import pandas as pd

from forecasting.models import ALWAYS, PAST_PLAN
from forecasting.serving.plans import PlanUse

DIVERGED = "diverged"
ABSURD = 1e6
SCALE_BOUND = ("mae", "rmse")


def is_diverged(value: float | None) -> bool:
    """Infinite, or too large to be a scale-free score."""
    if value is None or math.isnan(value):
        return False
    return math.isinf(value) or abs(value) > ABSURD


def score(value: float | None, digits: int = 3) -> float | str | None:
    """A scale-free score rounded for a table, "diverged", or None when undefined."""
    if value is None or math.isnan(value):
        return None
    return DIVERGED if is_diverged(value) else round(float(value), digits)


def scores(metrics: dict[str, float], digits: int = 3) -> dict[str, float | str | None]:
    """A row of metrics: scale-free ones by ``score``; MAE/RMSE follow their row."""
    free = {k: v for k, v in metrics.items() if k not in SCALE_BOUND}
    row_diverged = any(is_diverged(v) for v in free.values())
    out = {}
    for name, value in metrics.items():
        if name in SCALE_BOUND:
            undefined = value is None or math.isnan(value)
            bad = not undefined and (row_diverged or math.isinf(value))
            out[name] = DIVERGED if bad else (None if undefined else round(value, digits))
        else:
            out[name] = score(value, digits)
    return out


def label(value: float | None, digits: int = 3) -> str:
    """A score as text for a card or a chart label."""
    shown = score(value, digits)
    return "n/a" if shown is None else shown if isinstance(shown, str) else f"{shown:.{digits}f}"


def percent(value: float | None) -> str:
    """A score kept in percent (WAPE, sMAPE, bias) as text: ``9.1%``."""
    shown = score(value, 1)
    return "n/a" if shown is None else shown if isinstance(shown, str) else f"{shown:.1f}%"


# -- drivers: which the run kept, with both validation scores ---------------------------------


def drivers_used(run: dict) -> str:
    """``price 0.087 with it vs 0.959 without`` for each driver the run kept."""
    report = (run.get("metrics") or {}).get("drivers") or {}
    kept = [
        f"{name}: validation score {row['with']:.3f} with it, {row['without']:.3f} without"
        if "with" in row
        else f"{name}: named by you"
        for name, row in report.items()
        if row.get("used")
    ]
    return "; ".join(kept) or "named when the model was trained"


def behind_baseline(served: dict, baseline: dict | None) -> str | None:
    """A warning when the served forecast scored worse than seasonal naive on the held-out
    window (MASE and RMSSE both), or None. A stranger's retrained run served such a
    forecast and the page said nothing: validation chose it on earlier folds, and one
    window can turn against any choice, but the planner must hear of it."""
    if not baseline:
        return None
    worse = [
        m
        for m in ("mase", "rmsse")
        if served.get(m) is not None and baseline.get(m) is not None and served[m] > baseline[m]
    ]
    if len(worse) < 2:
        return None
    return (
        f"Held out, the served forecast did worse than seasonal naive (MASE "
        f"{served['mase']:.3f} against {baseline['mase']:.3f}, RMSSE {served['rmsse']:.3f} "
        f"against {baseline['rmsse']:.3f}). It was chosen on the earlier validation folds; "
        "compare the runs on Retraining and serve an earlier one if it held out better."
    )


def drivers_left_out(run: dict) -> str:
    """Why there is no what-if panel: no candidate column, or none that helped."""
    report = (run.get("metrics") or {}).get("drivers") or {}
    tried = [
        f"{name} (validation score {row['with']:.3f} with it, {row['without']:.3f} without)"
        for name, row in report.items()
        if not row.get("used") and "with" in row
    ]
    if not tried:  # no candidate at all, or columns the reading left out (no future
        # values, a calendar key, an outcome): a stranger's file had a price and a flag
        return (
            "No driver was tried, so no what-if: the file has no column a plan can give "
            "(price, promotion, spend) with values past the last sale. The upload's report "
            "says why each numeric column was not tried."
        )
    return (
        "Drivers tried and left out, because validation did not say they help: "
        + "; ".join(tried)
        + ". The forecast uses sales history alone; ticking a driver when you upload on the "
        "Retraining page (or --exog on the command line) forces it in."
    )


def describe_plan(drivers: tuple[str, ...], use: PlanUse | None, h: int) -> str:
    """Which periods of which series used the drivers' plan, the holes filled inside it,
    and what served past it."""
    names = ", ".join(drivers)
    steps = use.periods() if use is not None and len(use.rows) else None
    without = (
        f"served without {names} (the candidates chosen for periods without a plan)"
        " - give planned values as rows past the last sale in the file, a plan file "
        "(--future, or the Forecast page's plan upload) or a what-if"
    )
    if steps is None or steps.max() == 0:
        text = f"drivers {names}: no planned values; {without}"
    elif steps.min() >= h:
        text = f"drivers {names}: planned values used for all {h} periods"
    elif steps.nunique() == 1:
        text = (
            f"drivers {names}: planned values for the first {steps.iloc[0]} periods; then {without}"
        )
    else:
        counts = steps.value_counts().sort_index(ascending=False)
        spread = ", ".join(f"{n} series {k} of {h} periods" for k, n in counts.items())
        short = steps[steps < h].sort_values()
        examples = ", ".join(f"{uid} ({k})" for uid, k in short.head(3).items())
        if len(short) > 3:
            examples += f" and {len(short) - 3} more"
        text = (
            f"drivers {names}: each series uses its own plan ({spread}; shortest: "
            f"{examples}); past it {without}"
        )
    holes = use.describe_holes() if use is not None else []
    if holes:
        text += "; holes inside a plan: " + "; ".join(holes)
    outside = use.describe_outside() if use is not None else []
    if outside:
        text += "; prices no history supports: " + "; ".join(outside)
    return text


def served_in_scope(choice: pd.Series, series: list[str]) -> tuple[str, str]:
    """What serves the series shown, short enough for a card, and in full: one model's
    name, or the most common and how many others (a run's whole description, every
    combination with its count, overflowed the Overview's card)."""
    counts = choice.reindex(series).dropna().value_counts()
    if counts.empty:
        return "none", ""
    top = str(counts.index[0])
    if len(counts) == 1:
        return top, ""
    short = f"{top} and {counted(len(counts) - 1, 'other')}"
    parts = [f"{name} for {n}" for name, n in counts.items()]
    return short, f"served: {', '.join(parts)} of the {len(series)} series shown. "


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 outlier", "3 outliers": a count with its noun in the number it takes."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def duration(seconds: float) -> str:
    """How long something took, in the unit that reads: 45 s, 12 min, 2.5 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def time_left(seconds: float | None) -> str:
    """ "about 3 min left" for an estimate in seconds (empty when there is none yet)."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60):.0f} min left"
    return f"about {seconds / 3600:.1f} h left"


#: where the models chosen for every series read no driver
NO_PLAN_MOVES = (
    "No served forecast reads a driver (validation chose models without them), so a plan "
    "changes nothing."
)


def describe_holdout(metrics: dict | None) -> str | None:
    """Where drivers serve, the held-out scores with their true values and without a
    plan, in one sentence (None without drivers)."""
    holdout = (metrics or {}).get("holdout")
    if not holdout:
        return None

    def part(scores: dict) -> str:
        return f"MASE {scores.get('mase', math.nan):.3f}, WAPE {scores.get('wape', math.nan):.1f}%"

    if holdout.get("series_a_plan_moves") == 0:
        return f"Held out: {part(holdout['without_plan'])}. {NO_PLAN_MOVES}"
    perfect = (
        f"with the drivers' true values (what a perfect plan gives): {part(holdout['with_plan'])}"
    )
    if (metrics or {}).get("headline") == "without_plan":  # what serves first, as the Overview
        return (
            f"Held out without a plan (what serves: the file plans no driver): "
            f"{part(holdout['without_plan'])}; {perfect}."
        )
    return (
        f"Held out {perfect}; without a plan (what serves past it): "
        f"{part(holdout['without_plan'])}."
    )


def unplanned_drivers(metrics: dict | None) -> str | None:
    """When a run serves drivers but its file plans none of their future values: the
    stored forecast is the driver-free choice (a stranger ticked a price, read "used, as
    you named it", and no served forecast read it)."""
    metrics = metrics or {}
    holdout = metrics.get("holdout") or {}
    if metrics.get("headline") != "without_plan" or not holdout.get("series_a_plan_moves"):
        return None
    used = [name for name, row in (metrics.get("drivers") or {}).items() if row.get("used")]
    names = ", ".join(used) or "its drivers"
    return (
        f"The file plans no future {names}: the stored forecast is the choice without "
        f"them. Give planned values (a plan on the Forecast page, or rows past the last "
        f"sale) to forecast with {names}."
    )


def without_plan(metrics: dict | None, scoped: dict | None = None) -> str | None:
    """Where drivers serve, the held-out scores without a plan; the headline scores are
    already those with the drivers' true values (None without drivers). ``scoped``: the
    series shown's own ``with_plan`` and ``without_plan`` scores, in place of the run's
    (a stranger read the run's beside one SKU's)."""
    holdout = (metrics or {}).get("holdout")
    if not holdout:
        return None
    if holdout.get("series_a_plan_moves") == 0:
        return NO_PLAN_MOVES
    if scoped and {"with_plan", "without_plan"} <= set(scoped):
        holdout = {**holdout, **scoped}
    scores = holdout["without_plan"]
    if (metrics or {}).get("headline") == "without_plan":
        perfect = holdout["with_plan"]
        return (
            "Those are without a plan, the forecast that serves: the file plans no driver. "
            "With the drivers' true values (a perfect plan): "
            f"MASE {perfect.get('mase', math.nan):.3f}, WAPE {perfect.get('wape', math.nan):.1f}%."
        )
    return (
        f"Those use the drivers' true values (a perfect plan); without a plan (what serves "
        f"past it): MASE {scores.get('mase', math.nan):.3f}, "
        f"WAPE {scores.get('wape', math.nan):.1f}%."
    )


def candidate_label(name: str) -> str:
    """A model's tick on the Retraining page: the ones a run trains whatever is ticked."""
    return f"{name} (always)" if name in ALWAYS else name


#: said under the model ticks (a stranger unticked recent_mean and found it trained)
PAST_PLAN_NOTE = (
    ", ".join(PAST_PLAN) + " is trained too wherever drivers are used, ticked or not: it "
    "is a candidate for the periods past a plan."
)
