"""What the pages say, checked without a browser: scores, growth windows, tuning, exports."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from dashapp import components as ui
from dashapp import figures
from forecasting.data.frequency import frequency_from_alias
from pipeline.exports import excel_bytes
from pipeline.formatting import DIVERGED, behind_baseline, drivers_left_out, drivers_used, scores


def _model(name: str, mase: float, trials: int = 0, selected: bool = False) -> dict:
    test = {"mase": mase, "rmsse": mase, "wape": 10.0, "mae": 3.0, "rmse": 4.0, "bias": -1.0}
    return {
        "model": name,
        "selected": selected,
        "validation_score": mase,
        "test": test,
        "trials": trials,
        "seconds": 1.0,
    }


@pytest.mark.parametrize("absurd", [5.152e21, float("inf"), -2e6])
def test_a_diverged_score_is_shown_as_diverged_everywhere(absurd):
    row = scores({"mase": absurd, "wape": 12.3456, "mae": 7.0, "rmse": float("inf")})
    assert row == {"mase": DIVERGED, "wape": 12.346, "mae": DIVERGED, "rmse": DIVERGED}
    models = [_model("sarima", absurd), _model("ets", 0.8, selected=True)]
    table = ui.score_table(models, "t", tuning=True)
    sarima = table.data[0]
    assert sarima["validation"] == DIVERGED and sarima["mase"] == DIVERGED
    assert table.data[1]["mase"] == 0.8 and table.data[1]["mae"] == 3.0
    chart = figures.model_comparison(models)
    assert list(chart.data[0].y) == ["ets", "sarima"]  # the diverged one last, with no bar
    assert chart.data[0].x[1] is None and chart.data[0].text[1] == DIVERGED


def test_scores_made_with_the_drivers_true_values_are_marked_and_explained():
    priced = {**_model("linear_trend", 0.665), "true_drivers": ["Preis"]}
    models = [priced, _model("ets", 1.028, selected=True)]
    table = ui.score_table(models, "t")
    assert [row["model"] for row in table.data] == [
        "linear_trend (with true Preis)",
        "ets (served)",
    ]
    note = ui.true_drivers_note(models).children
    assert note.startswith('Marked "with true Preis": scored with the actual values')
    assert ui.true_drivers_note([_model("ets", 1.0)]) is None  # nothing to explain


def test_large_errors_in_the_data_units_and_undefined_scores_are_not_called_diverged():
    row = scores({"mase": 0.9, "mae": 3.2e7, "rmse": 4.1e7})
    assert row == {"mase": 0.9, "mae": 3.2e7, "rmse": 4.1e7}
    # MAPE of a window of zero actuals is undefined (NaN), not a divergence: left blank
    assert scores({"mape": float("nan"), "mae": 0.0}) == {"mape": None, "mae": 0.0}


@pytest.mark.parametrize(
    ("alias", "periods", "title"),
    [("D", 200, "last 28 days"), ("W-SUN", 60, "last 4 weeks"), ("MS", 36, "last 3 months")],
)
def test_growth_compares_a_window_that_fits_the_frequency(alias, periods, title):
    history = pd.Series(range(1, periods + 1), dtype=float)
    card = ui.growth_card(history, frequency_from_alias(alias))
    text = str(card.children.children.children)
    window = int(title.split()[1])
    recent, before = history.tail(window).sum(), history.iloc[-2 * window : -window].sum()
    assert f"Growth, {title}" in text and f"{(recent / before - 1) * 100:+.1f}%" in text


def test_the_tuning_sentence_says_what_was_tuned():
    none = ui.tuning_sentence([_model("ets", 1.0), _model("theta", 1.0)])
    assert none.startswith("No model was tuned (trials = 0)")
    some = ui.tuning_sentence([_model("ets", 1.0), _model("xgboost", 1.0, trials=20)])
    assert some == (
        "Tuned with Optuna: xgboost (20 trials); the others ran with their default parameters."
    )


def test_the_excel_export_holds_dates_and_quotes_formulas():
    frame = pd.DataFrame(
        {"series": ["=cmd()"], "date": [pd.Timestamp("2025-03-01")], "forecast": [1.5]}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(excel_bytes(frame))).active
    assert sheet["B2"].is_date and sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["B2"].value == pd.Timestamp("2025-03-01").to_pydatetime()
    assert sheet["A2"].value == "'=cmd()" and sheet["C2"].value == 1.5


def test_the_forecast_page_says_which_drivers_were_tried_and_left_out():
    run = {"metrics": {"drivers": {
        "Price": {"used": False, "with": 0.921, "without": 0.896},
        "promo": {"used": True, "with": 0.5, "without": 0.9},
    }}}  # fmt: skip
    assert drivers_used(run) == "promo: validation score 0.500 with it, 0.900 without"
    left_out = drivers_left_out(run)
    assert "Price (validation score 0.921 with it, 0.896 without)" in left_out
    assert "promo" not in left_out
    none = drivers_left_out({"metrics": {"drivers": {}}})
    assert none.startswith("No driver was tried, so no what-if") and "says why" in none


def test_two_identical_starts_get_background_jobs_of_their_own(tmp_path):
    """Dash keys a background job by a hash of its inputs; two tabs that sent the same
    start shared one job's progress channel, which hands each value to one of them."""
    import diskcache
    from dash import DiskcacheManager

    from dashapp.run_panel import start_request
    from pipeline.options import RunOptions

    manager = DiskcacheManager(diskcache.Cache(str(tmp_path)))
    opts = RunOptions(kind="train")
    keys = {
        manager.build_cache_key(start_request, [start_request(opts, 1)], [], ["start"])
        for _ in range(2)
    }
    assert len(keys) == 2


def test_a_finished_run_names_what_serves_only_while_it_serves():
    from dashapp.run_panel import outcome_text

    run = {"id": 4, "status": "succeeded", "error": None, "kind": "run",
           "selected_model": "autoets", "dataset_id": 2}  # fmt: skip
    assert outcome_text({**run, "production": True}).endswith("Now serving autoets.")
    rolled_back = outcome_text({**run, "production": False})
    assert "Now serving" not in rolled_back and "another run serves" in rolled_back


def test_a_run_worse_than_seasonal_naive_held_out_says_so_where_it_ended():
    from dashapp.run_panel import outcome_alert

    metrics = {"mase": 1.2, "rmsse": 0.9, "baseline": {"mase": 1.0, "rmsse": 0.8}}
    run = {"id": 5, "status": "succeeded", "error": None, "kind": "run", "production": True,
           "selected_model": "ets", "dataset_id": 2, "metrics": metrics}  # fmt: skip
    behind = outcome_alert(run)
    assert behind.color == "warning"
    assert "did worse than seasonal naive (MASE 1.200 against 1.000" in behind.children
    ahead = outcome_alert({**run, "metrics": {**metrics, "mase": 0.9}})
    assert ahead.color == "success" and "seasonal naive" not in ahead.children
    planned = {"headline": "with_plan", "holdout": {"series_a_plan_moves": 3},
               "drivers": {"price": {"used": True}}}  # fmt: skip
    assert "plans no future" not in outcome_alert({**run, "metrics": planned}).children
    unplanned = {**planned, "headline": "without_plan"}
    said = outcome_alert({**run, "metrics": unplanned}).children
    assert "The file plans no future price: the stored forecast is the choice without" in said


def _as_upload(text: str) -> str:
    import base64

    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def test_a_plan_file_on_the_forecast_page_is_read_as_every_plan_file_is():
    """Day-first dates and decimal commas, as the command line's --future reads them; a
    period or a driver the file leaves out stays blank."""
    from dashapp.callbacks.forecast import _uploaded_plan

    on_file = [{"date": d, "price": None, "promo": None}
               for d in ("2026-03-02", "2026-03-09", "2026-03-16")]  # fmt: skip
    text = "Datum;price\n02.03.2026;4,50\n16.03.2026;3,99\n"
    rows = _uploaded_plan(_as_upload(text), on_file)
    assert rows == [
        {"date": "2026-03-02", "price": 4.5, "promo": None},
        {"date": "2026-03-09", "price": None, "promo": None},
        {"date": "2026-03-16", "price": 3.99, "promo": None},
    ]


def test_a_plan_file_without_a_driver_says_which_it_needs():
    from dashapp.callbacks.forecast import _uploaded_plan
    from forecasting.errors import DataError

    on_file = [{"date": "2026-03-02", "price": None, "promo": None}]
    with pytest.raises(DataError, match="at least one driver column of price, promo"):
        _uploaded_plan(_as_upload("date,units\n2026-03-02,4\n"), on_file)


def test_a_plan_file_of_every_series_gives_the_table_the_rows_of_those_shown():
    """A stranger's plan for 36 SKUs, uploaded with one SKU shown, gave every period the
    last SKU's price (13.62 where its own were 18.15 and 22.69): the forecast doubled."""
    from dashapp.callbacks.forecast import _uploaded_plan
    from forecasting.errors import DataError

    on_file = [{"date": d, "Unit price": None} for d in ("2026-03-02", "2026-03-09")]
    text = (
        "Week;Region;SKU;Units;Unit price\n"
        "02.03.2026;North;SKU-105;;18,15\n09.03.2026;North;SKU-105;;22,69\n"
        "02.03.2026;North;SKU-106;;10,00\n09.03.2026;North;SKU-106;;11,00\n"
        "02.03.2026;West;SKU-112;;13,62\n09.03.2026;West;SKU-112;;13,62\n"
    )
    ids = ["Region", "SKU"]
    one = _uploaded_plan(_as_upload(text), on_file, ids, ["Region=North/SKU=SKU-105"])
    assert [r["Unit price"] for r in one] == [18.15, 22.69]
    north = ["Region=North/SKU=SKU-105", "Region=North/SKU=SKU-106"]
    group = _uploaded_plan(_as_upload(text), on_file, ids, north)  # their mean, as shown
    assert [r["Unit price"] for r in group] == pytest.approx([14.075, 16.845])
    with pytest.raises(DataError, match=r"rows for 3 series .* but none for Region=South"):
        _uploaded_plan(_as_upload(text), on_file, ids, ["Region=South/SKU=SKU-101"],
                       "Region=South")  # fmt: skip
    # dates and drivers only: the plan of whatever is shown
    plain = "Week;Unit price\n02.03.2026;9,99\n"
    alone = _uploaded_plan(_as_upload(plain), on_file, ids, ["Region=North/SKU=SKU-105"])
    assert [r["Unit price"] for r in alone] == [9.99, None]


@pytest.mark.parametrize(
    ("reach", "sentence"),
    [
        ([13] * 12, "The plan reaches 13 of the 13 periods shown for each of the 12 series."),
        (
            [0] * 12,
            "The plan reaches none of the 13 periods shown for any of the 12 series: "
            "the forecast is made without the drivers.",
        ),
        (
            [5],
            "The plan reaches 5 of the 13 periods shown; past it the forecast is made "
            "without the drivers.",
        ),
        (
            [13, 5, 5, 0],
            "The plan reaches 13 of the 13 periods shown for 1 series, 5 for 2 "
            "series, 0 for 1 series; past it the forecast is made without the "
            "drivers.",
        ),
    ],
)
def test_the_forecast_page_says_how_far_the_plan_reaches_in_plain_words(reach, sentence):
    from dashapp.callbacks.forecast import plan_reach

    series = pd.Series(reach, index=[f"s{i}" for i in range(len(reach))])
    assert plan_reach(series, 13) == sentence


def test_an_ended_run_s_status_line_says_when_and_how_long_not_the_outcome_again():
    from dashapp.run_panel import ended_text, outcome_text

    run = {"id": 4, "kind": "run", "status": "succeeded", "error": None,
           "selected_model": "ets", "production": True, "dataset_id": 1,
           "started_at": "2026-12-06T08:40:00+00:00",
           "finished_at": "2026-12-06T08:42:30+00:00"}  # fmt: skip
    assert ended_text(run) == "Run 4 ended at 08:42:30 UTC, 2 min after it started."
    assert "succeeded" not in ended_text(run) and "Run 4 succeeded" in outcome_text(run)
    assert ended_text({**run, "started_at": None, "finished_at": None}) == "Run 4 ended."


def test_counts_take_the_number_of_their_noun():
    from pipeline.formatting import counted

    assert counted(1, "outlier") == "1 outlier" and counted(0, "outlier") == "0 outliers"
    assert counted(2500, "period") == "2,500 periods"
    assert counted(1, "series", "series") == "1 series" == counted(1, "series", "series")


def test_a_plan_cell_reads_a_decimal_comma_and_says_what_it_cannot_read():
    from dashapp.callbacks.forecast import plan_number
    from forecasting.errors import DataError

    assert plan_number("3,20") == 3.2 and plan_number(" 3.20 ") == 3.2 and plan_number(4) == 4.0
    assert plan_number("") is None and plan_number(None) is None
    with pytest.raises(DataError, match="holds 'abc'; give numbers"):
        plan_number("abc")


def test_the_overview_says_the_held_out_scores_without_a_plan_once():
    from pipeline.formatting import describe_holdout, without_plan

    metrics = {"mase": 0.512, "wape": 8.3,
               "holdout": {"with_plan": {"mase": 0.512, "wape": 8.3},
                           "without_plan": {"mase": 0.734, "wape": 12.1}}}  # fmt: skip
    said = without_plan(metrics)
    assert said == (
        "Those use the drivers' true values (a perfect plan); without a plan (what serves "
        "past it): MASE 0.734, WAPE 12.1%."
    )
    assert "0.512" not in said and without_plan({"mase": 0.5}) is None
    metrics["holdout"]["series_a_plan_moves"] = 0  # what serves reads no driver
    assert without_plan(metrics) == (
        "No served forecast reads a driver (validation chose models without them), so a plan "
        "changes nothing."
    )
    assert "perfect plan" not in describe_holdout(metrics)


def test_one_series_overview_says_its_own_scores_without_a_plan():
    """A stranger read the run's scores without a plan beside one SKU's with a plan."""
    from pipeline.formatting import without_plan

    metrics = {"mase": 0.512, "wape": 8.3,
               "holdout": {"with_plan": {"mase": 0.512, "wape": 8.3},
                           "without_plan": {"mase": 0.983, "wape": 26.9}}}  # fmt: skip
    scoped = {"series": 1, "with_plan": {"mase": 0.588, "wape": 16.1},
              "without_plan": {"mase": 0.864, "wape": 23.7}}  # fmt: skip
    said = without_plan(metrics, scoped)
    assert "MASE 0.864, WAPE 23.7%" in said and "0.983" not in said
    metrics["headline"] = "without_plan"  # the file plans nothing: the other way round
    said = without_plan(metrics, scoped)
    assert "With the drivers' true values (a perfect plan): MASE 0.588, WAPE 16.1%." in said
    assert without_plan(metrics, {"series": 1}) == without_plan(metrics)  # none of its own


def test_the_overview_card_names_what_serves_the_series_shown_briefly():
    import pandas as pd

    from pipeline.formatting import served_in_scope

    choice = pd.Series(
        ["ensemble(ets+theta+ces)"] * 6 + ["ensemble(croston+tsb+adida+imapa)"] * 3 + ["ets"],
        index=[f"s{i}" for i in range(10)],
    )
    short, full = served_in_scope(choice, list(choice.index))
    assert short == "ensemble(ets+theta+ces) and 2 others"
    assert full.startswith("served: ensemble(ets+theta+ces) for 6, ensemble(croston+tsb+")
    assert "ets for 1 of the 10 series shown" in full
    assert served_in_scope(choice, ["s9"]) == ("ets", "")  # one series: its own model


def test_the_why_sentence_says_it_explains_the_choice_with_a_plan_when_none_serves():
    from dashapp.loop_views import why_sentence

    rows = [
        {"group": "all", "served": "ensemble(linear_trend+ets)", "score": 0.742,
         "runner_up": "ets", "runner_up_score": 0.8, "baseline_score": 1.0, "series": 6}
    ]  # fmt: skip
    planned = why_sentence({"metrics": {"why": rows, "headline": "with_plan"}})
    assert planned.startswith("ensemble(linear_trend+ets) serves (validation score 0.742")
    unplanned = why_sentence({"metrics": {"why": rows, "headline": "without_plan"}})
    assert unplanned == "Why, with a plan: " + planned


def test_the_models_page_leads_with_what_serves_as_the_overview_does():
    """A run headed without a plan: the Models page's sentence starts with those scores,
    the Overview's headline, and gives the perfect plan's second (a stranger's find)."""
    from pipeline.formatting import describe_holdout

    holdout = {"with_plan": {"mase": 0.487, "wape": 13.6},
               "without_plan": {"mase": 0.611, "wape": 17.2}, "series_a_plan_moves": 4}  # fmt: skip
    headed = describe_holdout({"headline": "without_plan", "holdout": holdout})
    assert headed.startswith("Held out without a plan (what serves")
    assert headed.index("0.611") < headed.index("0.487")
    planned = describe_holdout({"headline": "with_plan", "holdout": holdout})
    assert planned.index("0.487") < planned.index("0.611")


def test_the_runs_table_says_times_as_the_status_line_does():
    from dashapp.run_panel import _row, ended_text

    run = {"id": 2, "kind": "train", "status": "succeeded", "stalled": False, "step": None,
           "progress": 1.0, "production": True, "selected_model": "ets", "error": None,
           "metrics": {"mase": 0.5}, "dataset_id": 1,
           "created_at": "2026-12-06T09:10:20+00:00", "started_at": "2026-12-06T09:10:23+00:00",
           "finished_at": "2026-12-06T09:10:49+00:00"}  # fmt: skip
    row = _row(run)
    assert row["submitted"] == "2026-12-06 09:10:20 UTC" and row["took"] == "26 s"
    assert ended_text(run) == "Run 2 ended at 09:10:49 UTC, 26 s after it started."
    assert _row({**run, "status": "running", "finished_at": None})["took"] == ""


def test_a_served_forecast_that_held_out_worse_than_seasonal_naive_is_said_so():
    """A stranger's retrained run served a forecast that lost to the baseline on the held-out
    window, and nothing on the page said so."""
    served, baseline = {"mase": 1.391, "rmsse": 1.02}, {"mase": 1.189, "rmsse": 0.98}
    assert behind_baseline(served, baseline) == (
        "Held out, the served forecast did worse than seasonal naive (MASE 1.391 against "
        "1.189, RMSSE 1.020 against 0.980). It was chosen on the earlier validation folds; "
        "compare the runs on Retraining and serve an earlier one if it held out better."
    )
    assert behind_baseline({"mase": 1.391, "rmsse": 0.95}, baseline) is None  # one of two
    assert behind_baseline({"mase": 0.9, "rmsse": 0.9}, baseline) is None
    assert behind_baseline(served, None) is None


def test_the_model_ticks_say_which_candidates_train_whether_ticked_or_not():
    from pipeline.formatting import PAST_PLAN_NOTE, candidate_label

    assert candidate_label("croston") == "croston (always)"
    assert candidate_label("recent_mean") == "recent_mean"  # a tick the browser tests find
    assert PAST_PLAN_NOTE.startswith("recent_mean is trained too wherever drivers are used")


def test_the_data_page_table_shows_a_group_s_sum_without_float_noise():
    from dashapp.callbacks.data import history_table

    history = pd.DataFrame(
        {
            "ds": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "y": [12.29 + 24.48, 3.0],
            "outliers": [0, 1],
            "filled": [0, 0],
        }
    )
    assert history["y"].iloc[0] != 36.77  # what a sum of two decimals gives
    table = history_table(history, "Quantité")
    assert table.columns.tolist() == ["date", "Quantité", "outliers", "filled"]
    assert table["date"].tolist() == ["2024-01-02", "2024-01-01"]  # newest first
    assert table["Quantité"].tolist() == [3.0, 36.77]


def test_the_backtest_chart_of_a_sum_leaves_out_series_held_out_earlier():
    """A delisted item is held out on its own last periods: added to the total, it drew
    the held-out actuals low where its window stopped."""
    from dashapp.callbacks.models import aligned_holdout

    days = pd.date_range("2024-11-01", periods=6, freq="D")
    rows = pd.concat(
        [
            pd.DataFrame({"unique_id": "a", "ds": days[3:], "y": 5.0}),
            pd.DataFrame({"unique_id": "b", "ds": days[3:], "y": 7.0}),
            pd.DataFrame({"unique_id": "ended", "ds": days[:3], "y": 9.0}),
        ]
    )
    kept, early = aligned_holdout(rows)
    assert early == 1
    assert sorted(kept["unique_id"].unique()) == ["a", "b"]
    assert kept.groupby("ds")["y"].sum().tolist() == [12.0, 12.0, 12.0]
    assert aligned_holdout(rows.loc[rows["unique_id"] == "ended"])[1] == 0  # one series: shown


def test_the_production_card_ends_each_sentence_once():
    """A stranger read "WAPE 16.4%.. Its 80% and 95% bands ..." on a planned run's card."""
    from dashapp.callbacks.overview import _coverage, _sentences

    said = _sentences(
        "run 1: held-out WAPE 12.0%",
        "Those use the drivers' true values; without a plan: MASE 0.700, WAPE 16.4%.",
        _coverage({"coverage80": 0.8, "coverage95": 0.95}),
        None,
    )
    assert "WAPE 16.4%. Its 80% and 95% bands held 80.0% and 95.0%" in said
    assert ".." not in said and said.endswith("(all series).")
