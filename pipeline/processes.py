"""The processes of a run: a fresh interpreter in its own process group, helpers that die
with it, and a way to stop the whole group.

Why: OpenMP (XGBoost, scikit-learn, BLAS) does not survive ``fork`` once its
thread pool exists, so a run never executes in a child forked from a web
worker; it is a new ``python -m pipeline execute ID``. That process leads its
own process group, so stopping the group stops every helper it started
(joblib's loky workers, their resource tracker, CmdStan). Helpers also watch
their parent and exit when it is gone, so a ``kill -9`` of the run leaves
nothing running even when no one is left to stop the group.

Imports stay light (no numeric libraries): the supervisor process uses this module.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:  # the database layer is imported by the functions that need it
    from storage.run_rows import Owner
    from storage.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
#: seconds between a helper's checks that its parent still lives
PARENT_CHECK_SECONDS = 0.5
#: seconds a stopped group gets to exit on SIGTERM before SIGKILL
TERM_SECONDS = 2.0
PR_SET_PDEATHSIG = 1


def child_env(settings: Settings) -> dict[str, str]:
    """The environment a run's processes need to open the same system and the same code."""
    env = dict(os.environ)
    env["DATA_DIR"] = str(settings.data_dir.resolve())
    env["DATABASE_URL"] = settings.resolved_database_url()
    env["MLFLOW_TRACKING_URI"] = settings.resolved_mlflow_uri()
    env["OPTUNA_STORAGE"] = settings.resolved_optuna_storage()
    # the code of this checkout, not whatever else is installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def spawn_executor(run_id: int, settings: Settings, stderr_path: Path) -> subprocess.Popen:
    """``python -m pipeline execute ID`` as a child of this process, leading its own group.

    It dies with this process (parent-death signal), so the caller supervises it.
    """
    stderr_path.parent.mkdir(parents=True, exist_ok=True)
    command = ["-m", "pipeline", "execute", str(run_id), "--supervisor", str(os.getpid())]
    with open(stderr_path, "ab") as stderr:
        return subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=child_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


def die_with(parent_pid: int) -> None:
    """Have the kernel kill this process when ``parent_pid`` (our parent) dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the supervisor stops the group instead
        pass
    if os.getppid() != parent_pid:  # it died before the signal was armed
        os._exit(1)


def watch_parent() -> None:
    """In a helper process: exit as soon as the process that started it is gone.

    A thread polling the parent id, not a parent-death signal: that signal fires
    when the *thread* that forked the helper ends, which joblib does not promise.
    """
    parent = os.getppid()

    def loop() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=loop, name="watch-parent", daemon=True).start()


def no_bare_forks() -> None:
    """Libraries that start processes with ``multiprocessing``'s default start them from
    a fresh server process, not by forking this one (its BLAS, OpenMP and watcher threads
    would leave a forked child waiting on locks for good)."""
    import multiprocessing

    multiprocessing.set_start_method("forkserver", force=True)


def own_helpers() -> None:
    """joblib's process workers started from here watch this process and die with it."""
    import joblib
    from joblib._parallel_backends import LokyBackend

    joblib.register_parallel_backend(
        "loky", functools.partial(LokyBackend, initializer=watch_parent)
    )


def group_members(owner: Owner) -> list[psutil.Process]:
    """Live processes of the group ``owner`` leads (it may be dead, its helpers not)."""
    from storage.run_rows import Owner

    if owner.host != Owner.current().host or psutil.boot_time() > owner.started:
        return []
    try:
        leader = psutil.Process(owner.pid)
        if abs(leader.create_time() - owner.started) >= 1.0:
            return []  # the pid belongs to another process now
    except psutil.NoSuchProcess:
        pass
    members = []
    for process in psutil.process_iter(["create_time", "status"]):
        try:
            if (
                os.getpgid(process.pid) == owner.pid
                and process.info["create_time"] >= owner.started - 1.0
                and process.info["status"] != psutil.STATUS_ZOMBIE
            ):
                members.append(process)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def stop_group(owner: Owner | None, term_seconds: float = TERM_SECONDS) -> int:
    """SIGTERM the run's process group, SIGKILL what is left after ``term_seconds``.

    Returns how many processes were found; zero when nothing of it runs any more.
    """
    if owner is None:
        return 0
    members = group_members(owner)
    if not members:
        return 0
    _signal_group(owner.pid, signal.SIGTERM)
    if not wait_gone(members, term_seconds):
        _signal_group(owner.pid, signal.SIGKILL)
        wait_gone(members, term_seconds)
    return len(members)


def is_gone(process: psutil.Process) -> bool:
    """Ended: no such process, or a zombie waiting for its parent to read its status."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(processes: list[psutil.Process], timeout: float) -> bool:
    """Whether every process ended within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not all(is_gone(p) for p in processes):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
