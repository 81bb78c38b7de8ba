"""The forecasting library: data in, validated forecasts out (no web, no database).

One word per idea, here and in every module, page and API field of the product:

- **data set**: one stored version of an uploaded file, every series in the long
  ``unique_id, ds, y`` frame (``forecasting.data.dataset``); a new upload is a new version.
- **series**: one ``unique_id`` (store x item x ...); a **scope** is what a reader asks
  for: one series, a **group** (``column=value``) or the total.
- **run**: one pass of the pipeline over a data set (``pipeline.runs``); the **serving
  run** is the succeeded run whose model answers reads (``pipeline.serving``).
- **model**: one registry entry (``forecasting.models``), fitted per series or over the
  panel; a **candidate** is what a series can be served by: a model, an ensemble of
  models, or a **rule** (``zero``, ``level``: a forecast that needs no fitted model).
- **choice**: which candidate serves each series (``forecasting.evaluation.selection``); the
  **served** forecast (``SERVED``, ``"selected"`` in the API) is the choices'.
- **ladder step**: how much history a series has (``zero``, ``new``, ``short``, ``long``;
  ``forecasting.data.ladder``); the ``zero`` and ``new`` steps are served by rules (zero,
  level), the others by models.
- **screen**: an expensive model tried on a sample of series first
  (``forecasting.evaluation.screening``).
- **held-out window**: the last H periods of every series, seen by nothing but the
  final score; **validation**: the rolling folds before it, which tune, choose and
  calibrate.
- **band**: a prediction interval (80% and 95%), calibrated on validation errors
  (``forecasting.evaluation.intervals``; of a sum of series:
  ``forecasting.evaluation.group_bands``).
- **plan**: the drivers' values for the periods ahead (``forecasting.serving.plans``); a run's
  progress ``Pacing`` (``forecasting.progress``) is the bar's, a different word.
- **price**, **promotion**: the drivers whose effect has a known sign
  (``forecasting.data.spec``); an **effect** is a price's elasticity or a promotion's lift
  as the served model forecasts it (``forecasting.serving.effects``).

Names kept where users and stored data already read them: the API, the database and
the pages call the served forecast ``selected`` (``selected_model``), the serving run
the *production* run, and the held-out window's scores ``test``; a **step** alone is a
run's step (ingest, eda, train, forecast) or a horizon step, never the ladder's.

OpenMP threads (XGBoost's, through libgomp) spin while they wait for work. On a
machine whose cores are busy with other work (the web workers, a second run, the
joblib workers of the same run) the spinning threads take the cores from the
thread they wait for: an XGBoost fit of the 9-series sample took 134 s with two
threads on a loaded 2-core machine, 7 s with ``OMP_WAIT_POLICY=PASSIVE``. The
policy is read when libgomp loads, so it is set here, before any model module
imports XGBoost; a value set by the operator is kept.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from forecasting.moved import install

install()  # models stored before a module moved still load (``forecasting.moved``)
