"""The forecasting library: data in, validated forecasts out (no web, no database).

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
