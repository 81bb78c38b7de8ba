"""The backtest over partitions of whole series (issue 30) gives the whole-panel backtest's
forecasts: the choices pooled over every partition, the bands pooled too."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.data.partitions import Partitions
from forecasting.evaluation.options import TrainOptions
from forecasting.models.by_partition import ByPartition, StoredPart
from forecasting.partitioned import partitioned_backtest
from forecasting.serving.model import SERVED
from forecasting.serving.requests import ForecastRequest, answer
from forecasting.workflow import backtest
from pipeline.serving_store import load_serving
from storage.artifacts import ArtifactStore
from storage.database import Database
from storage.datasets import load_dataset
from storage.run_reads import get_run
from tests.support.frames import spec_for
from tests.support.servers import cli

H = 8
#: series-by-series models, deterministic: equal to the last digit whatever the partition
MODELS = ("seasonal_naive", "ets", "theta")
#: learns across series (the panel's total): its forecasts depend on the partition's series
ACROSS_SERIES = ("imapa_total",)


def _panel(n: int = 14, weeks: int = 120, seed: int = 2) -> pd.DataFrame:
    """Smooth seasonal series, slow movers, one launched inside the held-out window, one
    with 40 weeks of history and one that never sold: every step of the ladder."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=weeks, freq="W-MON")
    t = np.arange(weeks)
    frames = []
    for i in range(n):
        if i % 3 == 2:
            y = rng.poisson(0.5, weeks).astype(float)
        else:
            y = 50 + 10 * i + 0.2 * t + 8 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 3, weeks)
        start = {5: weeks - 3, 7: weeks - 40}.get(i, 0)
        if i == 11:
            y = np.zeros(weeks)
        frames.append(pd.DataFrame({"unique_id": f"s{i:02d}", "ds": dates[start:], "y": y[start:]}))
    return pd.concat(frames, ignore_index=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["unique_id", "ds"], ignore_index=True)


def test_partitions_hold_whole_series_in_order(tmp_path):
    df = _panel()
    parts = Partitions.cut(df, tmp_path, rows=300)
    read = [parts.read(i) for i in range(len(parts))]
    assert len(parts) > 4
    # no series split, none lost, the panel's order kept, dtypes as written
    owners = pd.concat([p[["unique_id"]].drop_duplicates().assign(k=i) for i, p in enumerate(read)])
    assert owners["unique_id"].is_unique
    pd.testing.assert_frame_equal(pd.concat(read, ignore_index=True), df)
    # at most the rows asked, unless one series is longer
    assert all(len(p) <= 300 or p["unique_id"].nunique() == 1 for p in read)
    assert parts.lengths.to_dict() == df.groupby("unique_id").size().to_dict()
    # how it was cut, and that partitions this small decide on a few series
    said = parts.describe(300)
    assert said.startswith(f"{len(parts)} partitions of whole series, each of at most 300 rows")
    assert "under 100" in said and "longer" not in said
    assert "(12 series longer than that: a partition each)" in Partitions.cut(
        df, tmp_path / "tiny", rows=100
    ).describe(100)
    with pytest.raises(ValueError, match="at least one row"):
        Partitions.cut(df, tmp_path / "none", rows=0)


def test_the_partitioned_backtest_gives_the_whole_panels_forecasts(tmp_path):
    df = _panel()
    spec = spec_for("W-MON", country=None)
    options = TrainOptions(models=MODELS)
    whole = backtest(df, spec, H, options)
    parts = Partitions.cut(df, tmp_path / "parts", rows=300)
    partitioned = partitioned_backtest(parts, spec, H, options, work=tmp_path)
    assert len(parts) > 4

    # the choice is pooled over all partitions, so every series is served as before
    pd.testing.assert_series_equal(
        partitioned.outcome.selection.choice.sort_index(),
        whole.outcome.selection.choice.sort_index(),
    )
    assert partitioned.outcome.selection.choice.nunique() > 1  # a real choice was made
    # the served forecast and its bands (pooled quantiles) are the same to the last digit
    served = ["y", SERVED, "lo80", "hi80", "lo95", "hi95"]
    a, b = _sorted(partitioned.actuals), _sorted(whole.actuals)
    np.testing.assert_allclose(a[served], b[served], rtol=1e-12, atol=1e-12)
    series_by_series = [c for c in whole.outcome.per_model.columns if c not in ("unique_id", "ds")]
    series_by_series = [c for c in series_by_series if c not in ACROSS_SERIES]
    np.testing.assert_allclose(a[series_by_series], b[series_by_series], rtol=1e-12)
    # the scores are of every series: the means the same, the ladder the same
    assert set(partitioned.per_series["unique_id"]) == set(df["unique_id"])
    np.testing.assert_allclose(
        partitioned.summary.loc[SERVED, ["mase", "rmsse", "wape"]],
        whole.summary.loc[SERVED, ["mase", "rmsse", "wape"]],
    )
    assert partitioned.coverage == pytest.approx(whole.coverage)
    pd.testing.assert_frame_equal(
        partitioned.outcome.profile.sort_index(), whole.outcome.profile.sort_index()
    )
    # nothing is left behind in the work folder
    assert [p.name for p in tmp_path.iterdir()] == ["parts"]


def test_the_command_line_backtests_a_large_panel_in_partitions(tmp_path):
    csv = tmp_path / "panel.csv"
    _panel().rename(columns={"unique_id": "item", "ds": "week", "y": "units"}).to_csv(
        csv, index=False
    )
    out = {}
    for name, rows in (("whole", []), ("parts", ["--partition-rows", "300"])):
        out[name] = tmp_path / f"{name}.csv"
        result = cli(
            tmp_path / "data", "backtest", "--csv", str(csv), "--horizon", str(H),
            "--models", ",".join(MODELS), "--jobs", "1", "--quiet",
            "--forecasts", str(out[name]), *rows,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert ("partitions of whole series" in result.stdout) == bool(rows)
    # the file's own id column, the same forecasts and bands
    pd.testing.assert_frame_equal(pd.read_csv(out["parts"]), pd.read_csv(out["whole"]))
    assert list(pd.read_csv(out["parts"]).columns[:2]) == ["item", "ds"]
    refused = cli(tmp_path / "data", "backtest", "--csv", str(csv), "--partition-rows", "0")
    assert refused.returncode == 2
    assert "at least 1" in refused.stderr


def test_a_panel_of_new_and_unsold_series_is_served_by_the_rules_in_partitions(tmp_path):
    dates = pd.date_range("2024-01-01", periods=3, freq="W-MON")
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": f"n{i}", "ds": dates, "y": [float(i % 2) * (1 + i), 2, 3]})
            for i in range(6)
        ],
        ignore_index=True,
    )
    spec, options = spec_for("W-MON", country=None), TrainOptions(models=("ets",))
    whole = backtest(df, spec, 2, options)
    partitioned = partitioned_backtest(Partitions.cut(df, tmp_path, rows=7), spec, 2, options)
    choice = partitioned.outcome.selection.choice
    assert set(choice) == {"level", "zero"}  # nothing to validate: the ladder's rules
    pd.testing.assert_series_equal(choice.sort_index(), whole.outcome.selection.choice.sort_index())
    np.testing.assert_allclose(_sorted(partitioned.actuals)[SERVED], _sorted(whole.actuals)[SERVED])


def test_a_catalogue_run_trains_in_partitions_and_serves_the_same_forecasts(tmp_path):
    """A file of more rows than a partition is read and stored a partition at a time,
    and trained a partition at a time, its final fits too: the stored rows (a lost week
    filled, an outlier flagged) are a whole reading's, what serves forecasts as the
    whole-panel run's does, bands and all, and the scratch folders of partitions and
    fits are gone once the run ends."""
    csv = tmp_path / "panel.csv"
    panel = _panel()
    panel.loc[(panel["unique_id"] == "s03") & (panel["ds"] == "2022-06-06"), "y"] = 900.0
    panel = panel.drop(panel.index[(panel["unique_id"] == "s04") & (panel["ds"] == "2023-03-06")])
    sold = len(panel)
    # a price with a plan of the next weeks under the sales (read from every partition)
    price = 2.0 + 0.5 * np.sin(np.arange(len(panel)) / 3.0)
    panel = panel.assign(price=price.round(2))
    last = panel.groupby("unique_id")["ds"].transform("max")
    ahead = panel.loc[last == panel["ds"].max()].drop_duplicates("unique_id")
    plan = pd.concat(
        [ahead.assign(ds=ahead["ds"] + pd.Timedelta(weeks=k), y=np.nan, price=2.2) for k in (1, 2)]
    )
    panel = pd.concat([panel, plan], ignore_index=True)
    panel.rename(columns={"unique_id": "item", "ds": "week", "y": "units"}).to_csv(csv, index=False)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    forecasts, logs = {}, {}
    by_partition = ["--partition-rows", "300", "--reading-rows", "300"]
    for name, rows in (("whole", []), ("parts", by_partition)):
        data = tmp_path / name
        ran = cli(
            data, "run", "--csv", str(csv), "--horizon", str(H), "--exog", "price",
            "--models", ",".join([*MODELS, "linear_trend"]),
            "--jobs", "1", "--quiet", "--no-tracking", *rows, TMPDIR=str(scratch),
        )  # fmt: skip
        assert ran.returncode == 0, ran.stdout + ran.stderr
        logs[name] = (data / "logs" / "1.log").read_text()
        out = data / "forecast.csv"
        asked = cli(data, "forecast", "--horizon", str(H), "--out", str(out))
        assert asked.returncode == 0, asked.stdout + asked.stderr
        forecasts[name] = pd.read_csv(out).sort_values(["item", "ds"], ignore_index=True)
    assert "a catalogue: " in logs["parts"] and "partitions of whole series" in logs["parts"]
    read = f"a catalogue of {sold + 1:,} rows, read a partition of whole series at a time"
    assert read in logs["parts"]  # the lost week filled
    assert "a catalogue" not in logs["whole"]
    stored = {name: _stored(tmp_path / name) for name in forecasts}
    pd.testing.assert_frame_equal(stored["parts"][0], stored["whole"][0])
    rows = stored["parts"][0].set_index(["unique_id", "ds"])
    assert rows.loc[("item=s03", pd.Timestamp("2022-06-06")), "is_outlier"]  # the spike
    assert rows.loc[("item=s04", pd.Timestamp("2023-03-06")), "is_filled"]  # the lost week
    assert rows["is_filled"].sum() == 1
    assert stored["parts"][1] == stored["whole"][1]
    eda = {name: _eda(tmp_path / name) for name in forecasts}  # analysed a part at a time
    assert eda["parts"]["overview"] == eda["whole"]["overview"]
    assert eda["parts"]["series"] == eda["whole"]["series"]
    assert "partition 5 of" in logs["parts"] and "final fits of" in logs["parts"]
    parts, whole = forecasts["parts"], forecasts["whole"]
    assert len(parts) == 14 * H and parts["item"].nunique() == 14
    pd.testing.assert_frame_equal(parts, whole, check_exact=False, rtol=1e-9)
    assert list(scratch.iterdir()) == []
    # the held-out scores with and without the plan, and the series a plan moves, counted
    # a partition at a time (a catalogue with drivers failed here: issue 30)
    held = {name: _metrics(tmp_path / name)["holdout"] for name in forecasts}
    assert held["parts"]["series_a_plan_moves"] > 0
    assert held["parts"] == held["whole"]
    # the fits by partition are stored apart, each read only while it forecasts: a what-if
    # of two series reads their own partitions' fits and answers as the whole model does
    store, read = ArtifactStore(tmp_path / "parts" / "models"), []

    def reading(name: str):
        read.append(name)
        return store.load(1, name)

    models = {
        "whole": load_serving(ArtifactStore(tmp_path / "whole" / "models"), 1),
        "parts": store.load(1, "serving").reading_parts(reading),
    }
    split = models["parts"].fitted["ets"]
    assert isinstance(split, ByPartition)
    assert all(isinstance(part, StoredPart) for part in split.parts) and not read
    # each series' facts are stored once for every model, not once a model
    assert split.tails_ is models["parts"].fitted["linear_trend"].tails_
    assert len(split.for_series(["item=s03"]).last_ds_) < len(split.last_ds_)
    asked = ForecastRequest(H, series=("item=s03", "item=s05"), drivers={"price": [2.1] * H})
    holding = {f"{i}" for i, ids in enumerate(split.part_series()) if ids.isin(asked.series).any()}
    one = {name: answer(model, asked).rows for name, model in models.items()}
    assert read and {name.rsplit("-", 1)[1] for name in read} == holding
    assert len(read) < len(models["parts"].fitted) * len(split.parts) / 2
    assert len(one["parts"]) == 2 * H and set(one["parts"]["unique_id"]) == set(asked.series)
    pd.testing.assert_frame_equal(one["parts"], one["whole"], check_exact=False, rtol=1e-9)
    every = answer(models["parts"], replace(asked, series=None)).rows
    every = every.loc[every["unique_id"].isin(asked.series)].reset_index(drop=True)
    pd.testing.assert_frame_equal(one["parts"], every)


def _metrics(data: Path) -> dict:
    return get_run(Database(f"sqlite:///{data / 'app.sqlite'}"), 1)["metrics"]


def _eda(data: Path) -> dict:
    return json.loads((data / "reports" / "eda" / "1" / "report.json").read_text())


def _stored(data: Path) -> tuple[pd.DataFrame, dict]:
    """A data directory's stored version 1: its rows in order, and what its row says."""
    db = Database(f"sqlite:///{data / 'app.sqlite'}")
    version = load_dataset(db, 1)
    info = {k: version.info[k] for k in ("series", "rows", "start", "end", "sha256", "mapping")}
    frame = version.frame.sort_values(["unique_id", "ds"], ignore_index=True)
    return frame, {**info, "cleaning": version.info["cleaning"]}
