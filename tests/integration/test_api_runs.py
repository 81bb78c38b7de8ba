"""Runs and uploads through the JSON API: start, refuse a second, follow, cancel, store."""

from __future__ import annotations

import io
import time

from tests.support.frames import SAMPLES


def test_runs_logs_and_cancel_of_a_finished_run(client):
    listing = client.get("/api/runs").get_json()
    assert listing["production_run_id"] == 1 and listing["runs"][0]["status"] == "succeeded"
    assert client.get("/api/runs/1").get_json()["selected_model"]
    assert client.get("/api/runs/999").status_code == 404
    first = client.get("/api/runs/1/logs?offset=0").get_json()
    assert "run 1 succeeded" in first["text"] and first["status"] == "succeeded"
    rest = client.get(f"/api/runs/1/logs?offset={first['offset']}").get_json()
    assert rest == {"text": "", "offset": first["offset"], "status": "succeeded"}
    assert client.get("/api/runs/1/logs?offset=-1").status_code == 422
    download = client.get("/api/runs/1/log.txt")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    cancel = client.post("/api/runs/1/cancel")
    assert cancel.status_code == 409 and "already ended (succeeded)" in cancel.get_json()["detail"]
    assert client.get("/api/runs/1").get_json()["status"] == "succeeded"


def _wait_for(client, run_id: int, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/api/runs/{run_id}").get_json()
        if run["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return run
        time.sleep(0.5)


def test_upload_stores_a_valid_file_and_nothing_of_a_bad_one(client, tmp_path):
    with open(SAMPLES / "ecommerce_sales_data.csv", "rb") as handle:
        response = client.post("/api/upload", data={"file": (handle, "sales.csv")})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["dataset_id"] == 2
    assert body["report"]["cleaning"]["series"] == 1
    # the stored version had more series: said before the file was stored (and stored)
    replaces = body["report"]["replaces"]
    assert replaces["dataset_id"] == 1 and "series would no longer be stored" in replaces["note"]
    # stored by an ingest run, with its log, that read the validated file rather than again
    ingest = client.get(f"/api/runs/{body['run_id']}").get_json()
    assert ingest["kind"] == "ingest" and ingest["status"] == "succeeded"
    assert ingest["dataset_id"] == 2
    log = client.get(f"/api/runs/{body['run_id']}/logs").get_json()["text"]
    assert "was checked on upload" in log and "stored as data set version 2" in log
    listed = client.get("/api/datasets").get_json()
    assert [v["id"] for v in listed["datasets"]] == [2, 1]  # newest first
    assert listed["latest_dataset_id"] == 2 and listed["serving_dataset_id"] == 1
    new, trained = listed["datasets"]
    assert (new["source_name"], new["series"], new["serving"]) == ("sales.csv", 1, False)
    assert new["sales_column"] == "daily_sales" and trained["serving"]
    runs_before = len(client.get("/api/runs").get_json()["runs"])
    with open(__file__, "rb") as handle:
        bad = client.post("/api/upload", data={"file": (handle, "evil.csv")})
    assert bad.status_code == 422
    assert "could not be read as CSV" in bad.get_json()["detail"]
    assert len(client.get("/api/runs").get_json()["runs"]) == runs_before  # no run, no data
    missing = client.post("/api/upload", data={})
    said = missing.get_json()
    assert missing.status_code == 422 and "file" in said["fields"]["multipart"]
    assert said["detail"].startswith("Invalid multipart file: ")  # a sentence, always
    # a part named with a lone carriage return reaches the form without a name (was a 500)
    unnamed = b'--B\r\nContent-Disposition: form-data; name="\r"\r\n\r\nnull\r\n--B--\r\n'
    odd = client.post("/api/upload", data=unnamed, content_type="multipart/form-data; boundary=B")
    assert odd.status_code == 422
    assert odd.get_json()["fields"]["multipart"]["(a part without a readable name)"] == [
        "Unknown field."
    ]
    assert client.get("/api/eda?dataset_id=2").get_json()["overview"]["series"] == 1
    missing = client.get("/api/eda?dataset_id=3")
    assert missing.status_code == 404 and "does not exist" in missing.get_json()["detail"]
    beyond = client.get(f"/api/eda?dataset_id={2**63}")  # past what the database can hold
    assert beyond.status_code == 422 and "dataset_id" in beyond.get_json()["fields"]["query"]


def test_the_upload_form_reads_the_file_as_asked_and_declares_driver_roles(client):
    raw = (SAMPLES / "store_item_daily.csv").read_bytes()
    raw = raw.replace(b"units_sold,price,promo", b"units_sold,Preis,flyer", 1)
    form = {
        "file": (io.BytesIO(raw), "export.csv"),
        "target": "units_sold",
        "ids": "store, item",
        "exog": "Preis,flyer",
        "promotions": "flyer",
        "country": "DE",
        "gap_policy": "zero",
    }
    response = client.post("/api/upload", data=form)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["detected"]["mapping"]["ids"] == ["store", "item"]
    assert report["exog"] == ["Preis", "flyer"]
    # a price by its German name, a promotion by the form's word
    assert report["detected"]["prices"] == ["Preis"]
    assert report["detected"]["promotions"] == ["flyer"]
    assert report["country"] == "DE" and report["cleaning"]["gap_policy"] == "zero"
    bad = client.post("/api/upload", data={**form, "file": (io.BytesIO(raw), "x.csv"),
                                            "promotions": "Umsatz"})  # fmt: skip
    assert bad.status_code == 422
    assert "Umsatz declared a price or a promotion" in bad.get_json()["detail"]
    unknown = client.post("/api/upload", data={**form, "file": (io.BytesIO(raw), "x.csv"),
                                                "country": "XX"})  # fmt: skip
    assert unknown.status_code == 422, unknown.get_json()
    assert "Unknown holiday country 'XX'" in unknown.get_json()["detail"]
    assert list(unknown.get_json()["fields"]["multipart"]) == ["country"]
    # next month's export, sent without a calendar, keeps the one the planner chose
    again = {k: v for k, v in form.items() if k != "country"}
    again["file"] = (io.BytesIO(raw), "export-next.csv")
    kept = client.post("/api/upload", data=again).get_json()["report"]
    assert kept["country"] == "DE" and kept["country_from_version"] == 2
    assert not kept["country_default"]


def test_a_run_without_a_data_set_trains_the_latest_upload(client):
    with open(SAMPLES / "ecommerce_sales_data.csv", "rb") as handle:
        uploaded = client.post("/api/upload", data={"file": (handle, "sales.csv")}).get_json()
    assert uploaded["dataset_id"] == 2
    # the data set that serves is still 1; a start that names none trains the upload
    assert client.get("/api/series").get_json()["dataset_id"] == 1
    started = client.post("/api/runs", json={"models": ["linear_trend"], "horizon": 7})
    assert started.status_code == 202, started.get_json()
    assert started.get_json()["dataset_id"] == 2
    run = _wait_for(client, started.get_json()["id"])
    assert run["status"] == "succeeded", run
    serving = client.get("/api/series").get_json()
    assert serving["dataset_id"] == 2 and len(serving["series"]) == 1
    # naming a version trains that one
    named = client.post("/api/runs", json={"models": ["linear_trend"], "dataset_id": 1})
    assert named.status_code == 202 and named.get_json()["dataset_id"] == 1
    # its training is the same as above: stop it rather than wait for it
    client.post(f"/api/runs/{named.get_json()['id']}/cancel")
    assert _wait_for(client, named.get_json()["id"])["status"] in ("cancelled", "succeeded")
    unknown = client.post("/api/runs", json={"dataset_id": 99})
    assert unknown.status_code == 422 and "does not exist" in unknown.get_json()["detail"]
    assert list(unknown.get_json()["fields"]["json"]) == ["dataset_id"]


def test_start_a_run_through_the_api_and_a_second_is_refused(client):
    started = client.post("/api/runs", json={"models": ["linear_trend"], "horizon": 7})
    assert started.status_code == 202, started.get_json()
    run_id = started.get_json()["id"]
    second = client.post("/api/runs", json={"models": ["linear_trend"]})
    assert second.status_code == 409
    assert second.get_json()["running_run_id"] == run_id
    uploads = client.application.config["APP_DIR"] / "uploads"
    before = sorted(uploads.glob("*")) if uploads.exists() else []
    with open(SAMPLES / "store_item_daily.csv", "rb") as handle:
        upload = client.post("/api/upload", data={"file": (handle, "sales.csv")})
    assert upload.status_code == 409 and upload.get_json()["running_run_id"] == run_id
    assert "Wait for it to finish or cancel it" in upload.get_json()["detail"]
    after = sorted(uploads.glob("*")) if uploads.exists() else []
    assert after == before, "a refused upload kept its file"
    # a file that is wrong says what is wrong, run or no run
    wrong = client.post("/api/upload", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")})
    assert wrong.status_code == 422 and "date" in wrong.get_json()["detail"].lower()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").get_json()
        if run["status"] not in ("queued", "running"):
            break
        time.sleep(1)
    assert run["status"] == "succeeded", run
    assert client.get("/api/metrics").get_json()["run_id"] == run_id
    bad = client.post("/api/runs", json={"models": ["nope"]})
    assert bad.status_code == 422 and "Must be one of" in str(bad.get_json()["detail"])
