"""The eight reading choices, typed once: every door builds the same value, and stored
run options keep their flat JSON shape."""

from __future__ import annotations

from dataclasses import fields

import pytest

from forecasting.data.reading_options import ReadingOptions
from forecasting.errors import DataError
from pipeline.cli import build_parser
from pipeline.options import RunOptions, reading_from_args

#: a run row's options as stored before the reading was typed (flat keys)
STORED_FLAT = {
    "kind": "run",
    "csv": "/tmp/sales.csv",
    "source_name": "sales.csv",
    "date": "Datum",
    "target": "Menge",
    "ids": ["Filiale"],
    "exog": ["Preis"],
    "prices": ["Preis"],
    "promotions": [],
    "constraints": True,
    "country": "DE",
    "gap_policy": "zero",
    "dataset_id": None,
    "append": False,
    "append_to": None,
    "horizon": 8,
    "models": None,
    "trials": 0,
    "timeout": None,
    "windows": 3,
    "selection": "per_class",
    "jobs": -1,
    "track": True,
    "no_longer_an_option": 1,
}


def test_stored_flat_options_read_into_a_typed_reading_and_write_back_the_same_shape():
    opts = RunOptions.from_dict(STORED_FLAT)
    assert opts.reading == ReadingOptions(
        date="Datum",
        target="Menge",
        ids=("Filiale",),
        exog=("Preis",),
        prices=("Preis",),
        country="DE",
        gap_policy="zero",
    )
    written = opts.to_dict()
    assert "reading" not in written
    expected = {k: v for k, v in STORED_FLAT.items() if k != "no_longer_an_option"}
    assert {k: written[k] for k in expected} == expected  # every stored choice, as stored
    defaults = RunOptions(kind="train").to_dict()
    added = {k: v for k, v in written.items() if k not in expected}
    assert added == {k: defaults[k] for k in added}  # options added since: their defaults
    assert RunOptions.from_dict(written) == opts


def test_a_form_and_the_command_line_give_the_same_reading():
    form = {"date": "Datum", "ids": "Filiale, Artikel", "exog": "Preis,", "country": ""}
    flags = ["--date", "Datum", "--id", "Filiale", "--id", "Artikel", "--exog", "Preis"]
    args = build_parser().parse_args(["ingest", "--csv", "x.csv", *flags])
    assert ReadingOptions.from_dict(form) == reading_from_args(args)
    assert reading_from_args(args).ids == ("Filiale", "Artikel")
    assert reading_from_args(args).country is None  # blank: the deployment's calendar


def test_every_reading_choice_has_a_command_line_flag():
    flags = ["--date", "d", "--target", "t", "--id", "i", "--exog", "e", "--price", "e"]
    flags += ["--promotion", "e", "--country", "DE", "--gap-policy", "zero"]
    reading = reading_from_args(build_parser().parse_args(["ingest", "--csv", "x", *flags]))
    unset = [f.name for f in fields(ReadingOptions) if getattr(reading, f.name) == f.default]
    assert not unset, f"no flag sets {unset}"


def test_no_ids_is_one_series_and_unnamed_ids_are_detected():
    assert ReadingOptions.from_dict({"ids": []}).ids == ()
    assert ReadingOptions.from_dict({}).ids is None
    assert ReadingOptions(ids=["a", " b "]).ids == ("a", "b")


def test_the_calendar_is_the_one_named_else_the_default_and_none_means_none():
    assert ReadingOptions().calendar is None
    assert ReadingOptions().with_default_calendar("US").calendar == "US"
    assert ReadingOptions(country="DE").with_default_calendar("US").calendar == "DE"
    assert ReadingOptions(country="none").with_default_calendar("US").calendar is None
    assert ReadingOptions().with_default_calendar("none").calendar is None


def test_an_unknown_gap_rule_says_which_exist():
    with pytest.raises(DataError, match="Unknown gap policy 'mean'; use one of auto"):
        ReadingOptions(gap_policy="mean")
    with pytest.raises(DataError, match="gap policy"):
        RunOptions.from_dict({**STORED_FLAT, "gap_policy": "mean"})


def test_the_upload_form_offers_every_reading_choice():
    from dashapp.api.schemas.datasets import UploadForm

    assert {f.name for f in fields(ReadingOptions)} <= set(UploadForm().fields)


@pytest.mark.parametrize(
    ("column", "role"),
    [
        ("Preis", "price"),
        ("prix_unitaire", "price"),
        ("precio", "price"),
        ("ist_Aktion", "promotion"),
        ("Rabatt", "promotion"),
        ("korting", "promotion"),
        ("Transaktionen", "other"),
    ],
)
def test_prices_and_promotions_are_known_by_name_in_the_languages_the_reader_knows(column, role):
    from forecasting.data.spec import driver_roles

    prices, promotions = driver_roles([column])
    found = "price" if prices else "promotion" if promotions else "other"
    assert found == role
