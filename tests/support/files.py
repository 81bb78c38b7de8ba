"""Files shaped like planners' exports, generated: European dates, lost weeks, wide tables.

Each returns the file's bytes (write them where a test needs a path) or its frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STORES = ("north", "south", "east")


def european_monthly(months: int = 36, seed: int = 0) -> bytes:
    """``01.02.2021;Käse;1010``: semicolons, Latin-1, dd.mm.yyyy months (every date ambiguous)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=months, freq="MS")
    rows = [
        f"{d:%d.%m.%Y};Käse;{1000 + 15 * i + 80 * np.sin(2 * np.pi * d.month / 12) + rng.normal(0, 20):.0f}"  # noqa: E501
        for i, d in enumerate(dates)
    ]
    return ("Datum;Artikel;Absatz\n" + "\n".join(rows) + "\n").encode("latin-1")


def weekly_stores_with_lost_weeks(seed: int = 3) -> tuple[bytes, int]:
    """Three stores that never sell zero, three years of weeks, some weeks lost from the export.

    Six weeks are missing from every store (one export skipped them), seven more from each
    store on its own, two of them inside the last 13 weeks. Returns the bytes and the number
    of missing store-weeks.
    """
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2021-01-03", periods=156, freq="W-SUN")
    t = np.arange(len(weeks))
    everywhere = set(rng.choice(np.arange(5, 140), size=6, replace=False).tolist())
    rows, lost = [], 0
    for i, store in enumerate(STORES):
        level = 2000 + 1000 * i
        season = 1 + 0.25 * np.sin(2 * np.pi * t / 52 + i)
        y = level * (1 + 0.002 * t) * season + rng.normal(0, 0.04 * level, len(t))
        own = set(rng.choice(np.arange(5, 140), size=5, replace=False).tolist())
        own |= set(rng.choice(np.arange(144, 155), size=2, replace=False).tolist())
        for k, week in enumerate(weeks):
            if k in everywhere or k in own:
                lost += 1
                continue
            rows.append(f"{week.date()},{store},{y[k]:.0f}")
    return ("week,store,sales\n" + "\n".join(rows) + "\n").encode(), lost


def wide_daily(days: int = 120, seed: int = 1) -> bytes:
    """``date,north,south,east``: one column of sales per store, one row per day."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days)
    weekday = 1 + 0.2 * np.sin(2 * np.pi * np.arange(days) / 7)
    cols = {
        s: (100 * (i + 1) * weekday + rng.normal(0, 5, days)).round() for i, s in enumerate(STORES)
    }
    lines = [
        f"{d.date()}," + ",".join(f"{cols[s][k]:.0f}" for s in STORES) for k, d in enumerate(dates)
    ]
    return ("date," + ",".join(STORES) + "\n" + "\n".join(lines) + "\n").encode()


def with_extreme_cell(value: str = "1e308", days: int = 60, row: int = 17) -> bytes:
    """A daily file of two series with one absurd cell in the target (data row ``row``)."""
    dates = pd.date_range("2024-01-01", periods=days)
    rows = [
        f"{d.date()},{store},{100 + k % 7}" for store in ("a", "b") for k, d in enumerate(dates)
    ]
    date, store, _ = rows[row - 1].split(",")
    rows[row - 1] = f"{date},{store},{value}"
    return ("date,store,sales\n" + "\n".join(rows) + "\n").encode()


def priced_daily(days: int = 180, planned: int = 14, seed: int = 5) -> bytes:
    """Two products whose daily sales follow a price changed at random, next to a column
    of noise (``shelf_temp``); the last ``planned`` rows of each carry the planned price
    and a blank sales cell, as a planner exports next fortnight's price list."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-01", periods=days + planned, freq="D")
    parts = []
    for i, product in enumerate(("espresso", "filter")):
        price = rng.choice([8.0, 10.0, 12.0], len(dates))
        week = 6 * np.sin(np.arange(len(dates)) * 2 * np.pi / 7)
        sales = 320 + 25 * i - 18 * price + week + rng.normal(0, 3, len(dates))
        frame = pd.DataFrame(
            {
                "date": dates.strftime("%Y-%m-%d"),
                "product": product,
                "units": np.round(sales, 1),
                "price": price,
                "shelf_temp": np.round(rng.normal(20, 2, len(dates)), 1),
            }
        )
        frame.loc[days:, "units"] = np.nan
        parts.append(frame)
    return pd.concat(parts).to_csv(index=False).encode()


def launch_and_never_sold() -> bytes:
    """Store x item daily sales in the shapes a planner exports: a seasonal seller, a steady
    one, a slow mover, a launch on sale for three days and an item listed but never sold."""
    rng = np.random.default_rng(7)
    days = pd.date_range("2024-01-01", periods=120)
    rows = []
    for item, y in {
        "coffee": 40 + 10 * np.sin(np.arange(120) * 2 * np.pi / 7) + rng.normal(0, 3, 120),
        "kettle": rng.poisson(12, 120),
        "descaler": rng.poisson(0.4, 120),  # a slow mover: most days sell nothing
        "launch": [np.nan] * 117 + [4, 6, 5],  # on sale for three days
        "gift box": np.zeros(120),  # listed, never sold
    }.items():
        rows += [
            {"date": d.date(), "store": "north", "item": item, "units": v}
            for d, v in zip(days, y, strict=True)
            if not np.isnan(v)
        ]
    return pd.DataFrame(rows).to_csv(index=False).encode()


def priced_promoted_weekly(
    n_series: int = 12,
    weeks: int = 156,
    elasticity: float = -2.0,
    lift: float = 1.5,
    seed: int = 7,
    steps: tuple[float, ...] = (0.8, 0.9, 1.0, 1.0, 1.1, 1.2),
    regular_last: bool = False,
) -> pd.DataFrame:
    """Weekly store x item sales driven by a known price elasticity and promotion lift:
    the price moves on its own among ``steps`` of a base price (shelf changes, discounts)
    and an in-store display flag runs in about one week in six, independently of the
    price. ``regular_last``: the last week sells at the base price."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-06", periods=weeks, freq="W-WED")
    frames = []
    for i in range(n_series):
        base = rng.uniform(2.0, 6.0)
        price = base * rng.choice(steps, weeks)
        if regular_last:
            price[-1] = base
        display = (rng.random(weeks) < 0.17).astype(float)
        season = 1 + 0.2 * np.sin(2 * np.pi * np.arange(weeks) / 52)
        mean = rng.uniform(40, 200) * (price / base) ** elasticity * lift**display * season
        units = rng.poisson(mean * rng.gamma(20, 1 / 20, weeks)).astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "store": f"st{i % 3}",
                    "item": f"it{i // 3}",
                    "week": dates,
                    "units": units,
                    "price": price.round(2),
                    "display": display,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def monthly_store_items(months: int = 60, seed: int = 11) -> pd.DataFrame:
    """Two stores x three items, monthly, with trend and a yearly season: ``month, store,
    item, category, units``. A test writes the first months as the history and appends the
    rest as the new actuals."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-01", periods=months, freq="MS")
    t = np.arange(months)
    rows = []
    for s, store in enumerate(("north", "south")):
        for i, (item, category) in enumerate((("tea", "drinks"), ("coffee", "drinks"),
                                              ("biscuits", "food"))):  # fmt: skip
            level = 200 + 120 * i + 80 * s
            season = 1 + 0.3 * np.sin(2 * np.pi * (t + 2 * i) / 12)
            y = level * (1 + 0.01 * t) * season + rng.normal(0, 0.05 * level, months)
            rows += [
                {"month": d.date().isoformat(), "store": store, "item": item,
                 "category": category, "units": round(float(v), 1)}
                for d, v in zip(dates, np.maximum(y, 0), strict=True)
            ]  # fmt: skip
    return pd.DataFrame(rows)


def coded_export(months: int = 72, seed: int = 4) -> pd.DataFrame:
    """A planner's monthly export as a health or retail system writes it: series keyed by
    region, channel and two class codes, each code beside its description, and two
    numeric columns: the count (``Scripts``, named by no sales word) and its cost, the
    same counts priced, which is an outcome, not something known ahead."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2019-01-01", periods=months, freq="MS")
    t = np.arange(months)
    classes = [
        ("A", "Alimentary", "A01", "Stomatological"),
        ("A", "Alimentary", "A02", "Acid"),
        ("C", "Cardiovascular", "C07", "Beta blockers"),
        ("N", "Nervous", "N02", "Analgesics"),
    ]
    rows = []
    for region in ("North", "South"):
        for channel in ("Retail", "Hospital"):
            for c1, c1_desc, c2, c2_desc in classes:
                level = rng.uniform(200, 3000)
                season = 1 + 0.25 * np.sin(2 * np.pi * (t + rng.integers(12)) / 12)
                scripts = rng.poisson(level * season * (1 + 0.004 * t)).astype(float)
                price = rng.uniform(8, 40)
                rows.append(
                    pd.DataFrame(
                        {
                            "Month": dates.strftime("%Y-%m"),
                            "Region": region,
                            "Channel": channel,
                            "Class1": c1,
                            "Class1_desc": c1_desc,
                            "Class2": c2,
                            "Class2_desc": c2_desc,
                            "Scripts": scripts,
                            "Cost": np.round(scripts * price * rng.normal(1, 0.02, months), 2),
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


#: the weeks of prices and displays ``planned_weekly_file`` plans past the history
PLANNED_WEEKS = 8


def planned_weekly_file(path) -> tuple[str, pd.Timestamp]:
    """The history, then 8 weeks of prices and displays with blank units; one store's
    item lacks the third planned week (as in real exports). Returns its id and date."""
    frame = priced_promoted_weekly(12, weeks=120)
    plan = []
    last = frame["week"].max()
    rng = np.random.default_rng(0)
    for (store, item), rows in frame.groupby(["store", "item"]):
        weeks = pd.date_range(last, periods=PLANNED_WEEKS + 1, freq="W-WED")[1:]
        price = rows["price"].iloc[-1] * rng.choice([0.8, 1.0, 1.2], PLANNED_WEEKS)
        plan.append(
            pd.DataFrame(
                {
                    "store": store,
                    "item": item,
                    "week": weeks,
                    "units": np.nan,
                    "price": price.round(2),
                    "display": rng.integers(0, 2, PLANNED_WEEKS).astype(float),
                }
            )
        )
    plan = pd.concat(plan, ignore_index=True)
    hole = plan.index[(plan["store"] == "st0") & (plan["item"] == "it0")][2]
    when = plan.loc[hole, "week"]
    plan = plan.drop(hole)
    pd.concat([frame, plan]).to_csv(path, index=False)
    return "store=st0/item=it0", when
