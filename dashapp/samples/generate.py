"""Generate the bundled multi-series sample: 3 stores x 3 items, daily, two years.

Synthetic, so it is free to ship. Weekly and yearly seasonality, a trend, a
promotion and a price, a product launched late (leading zeros), a few returns
(negative values) and one stock-out spike. Under the sales, the next four weeks'
planned prices and promotions with the units left blank: the plan a planner
exports, which makes the price and the promotion drivers known in advance.

    python dashapp/samples/generate.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

STORES = (("north", 1.0), ("south", 0.6), ("online", 1.6))
#: item, its base daily units, its category
ITEMS = (("coffee", 40, "grocery"), ("kettle", 6, "home"), ("mug", 12, "home"))


def _series_rows(dates, store, item, category, units, price, promo) -> pd.DataFrame:
    """One series' rows in the file's columns."""
    return pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "store": store,
            "item": item,
            "category": category,
            "units_sold": units,
            "price": price,
            "promo": promo,
        }
    )


def make(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    t = np.arange(len(dates))
    weekly = np.array([0.85, 0.9, 0.95, 1.0, 1.15, 1.35, 1.2])[dates.dayofweek]
    yearly = 1 + 0.15 * np.sin(2 * np.pi * (dates.dayofyear - 80) / 365.25)
    rows = []
    for store, store_level in STORES:
        for item, base, category in ITEMS:
            promo = (rng.random(len(dates)) < 0.08).astype(int)
            price = np.round(base / 4 * (1 - 0.2 * promo) * rng.uniform(0.98, 1.02, len(dates)), 2)
            level = base * store_level * (1 + 0.0006 * t) * weekly * yearly * (1 + 0.5 * promo)
            sales = rng.poisson(level).astype(float)
            if item == "kettle" and store == "south":
                sales[:120] = 0.0
            if item == "mug":
                returns = rng.choice(len(dates), 3, replace=False)
                sales[returns] = -rng.integers(1, 4, 3)
            if store == "north" and item == "coffee":
                sales[400] *= 6
            units = sales.astype(int)
            rows.append(_series_rows(dates, store, item, category, units, price, promo))
    return pd.concat([*rows, planned(dates[-1])], ignore_index=True)


#: days of planned prices and promotions under the sales
PLANNED_DAYS = 28


def planned(last: pd.Timestamp, seed: int = 8) -> pd.DataFrame:
    """The next ``PLANNED_DAYS`` days' planned price and promotion of every series, units
    blank (a separate random stream: the history is the same with or without it)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(last + pd.Timedelta(days=1), periods=PLANNED_DAYS, freq="D")
    rows = []
    for store, _ in STORES:
        for item, base, category in ITEMS:
            promo = (rng.random(len(dates)) < 0.08).astype(int)
            price = np.round(base / 4 * (1 - 0.2 * promo), 2)
            rows.append(_series_rows(dates, store, item, category, pd.NA, price, promo))
    return pd.concat(rows, ignore_index=True)


if __name__ == "__main__":
    out = Path(__file__).with_name("store_item_daily.csv")
    make().to_csv(out, index=False)
    print(f"wrote {out}")
