"""``python -m dashapp``: serve the dashboard with gunicorn (gthread), as deployed.

On a fresh data directory it first starts a run on the bundled sample (in its
own process), so the dashboard has a model to show within a minute; the
Retraining page shows that run's progress and log.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from forecasting.errors import DataError
from pipeline import runs
from pipeline.options import RunOptions
from pipeline.system import open_system
from storage.datasets import latest_dataset_id
from storage.run_rows import RunConflict
from storage.settings import load_settings

#: the first-start sample ships with the package (pyproject.toml's package data)
#: what gunicorn serves and with which settings: modules of the package, not files of a checkout
GUNICORN_CONFIG = "python:dashapp.gunicorn_conf"
WSGI_APP = "dashapp.wsgi:server"
SAMPLE = Path(__file__).resolve().parent / "samples" / "store_item_daily.csv"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        from dashapp.pages_worker import serve

        serve(load_settings())
        return
    parser = argparse.ArgumentParser(prog="python -m dashapp", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("APP_PORT") or 8050))
    parser.add_argument("--workers", type=int, help="default: the core count")
    parser.add_argument("--threads", type=int, help="default: gunicorn_conf.py's")
    parser.add_argument(
        "--sample", type=Path, default=SAMPLE, help="CSV to train on when nothing is stored yet"
    )
    parser.add_argument("--no-sample", action="store_true", help="start empty")
    args = parser.parse_args(argv)

    # pin a relative DATA_DIR to where we stand, for gunicorn and the runs it starts
    os.environ["DATA_DIR"] = str(load_settings().data_dir.resolve())
    system = open_system()
    if not args.no_sample and latest_dataset_id(system.db) is None:
        try:
            run = runs.submit(
                system,
                RunOptions(
                    kind="run", csv=str(args.sample.resolve()), source_name=args.sample.name
                ),
            )
            print(
                f"training run {run['id']} on {args.sample.name}; watch it on the Retraining page"
            )
        except (RunConflict, DataError) as exc:
            print(f"note: {exc}")
    system.db.dispose()
    print(f"serving on http://{args.host}:{args.port}", flush=True)
    command = [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG]
    command += ["--bind", f"{args.host}:{args.port}"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    os.execvp(sys.executable, [*command, WSGI_APP])


if __name__ == "__main__":
    main()
