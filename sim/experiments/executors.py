"""Where the simulations of an experiment run: in this process, in local processes, or on Dask.

Every experiment kind (batch, sensitivity, tuning, calibration) hands its jobs to one ``Executor``::

    with open_executor("dask", workers=4) as executor:
        for index, result, error in executor.submit(function, jobs).as_completed():
            ...

``inline`` runs each job at once in this process (one worker, no start-up cost); ``local`` is a
process pool (spawn context, so workers start clean); ``dask`` is a ``dask.distributed`` client of
the cluster at ``scheduler``, or of a local cluster of single-threaded worker processes. A job's
function and arguments must be picklable and importable by the workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import as_completed as futures_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.errors import RegsimError

Kind = Literal["inline", "local", "dask"]
EXECUTORS: tuple[str, ...] = ("local", "dask")
"""The executors a user chooses between (``inline`` is the one-worker case of ``local``)."""


def check_executor(kind: str, workers: int | None, scheduler: str | None) -> None:
    """RegsimError in the experiment's words if the executor, worker count or scheduler is unusable."""
    if kind not in (*EXECUTORS, "inline"):
        raise RegsimError(f"executor: expected one of {', '.join(EXECUTORS)}, found {kind!r}")
    if workers is not None and workers < 1:
        raise RegsimError(f"number of workers: must be at least 1, found {workers}")
    if scheduler is not None and kind != "dask":
        raise RegsimError("a Dask scheduler address needs the dask executor")


def worker_count(workers: int | None, jobs: int | None = None) -> int:
    """``workers`` (default: the CPU count), never more than ``jobs``, at least one."""
    count = workers or os.cpu_count() or 1
    return max(1, min(count, jobs) if jobs is not None else count)


@dataclass
class Submitted:
    """Jobs handed to an executor: iterate ``as_completed`` for (job index, result, error), or ``results``."""

    futures: list[Any]
    _completed: Callable[[list[Any]], Iterator[Any]]
    _release: Callable[[Any], None] = field(default=lambda future: None)

    def as_completed(self) -> Iterator[tuple[int, Any, BaseException | None]]:
        """(index of the job, its result or None, the exception it raised or None), as jobs finish."""
        index = {id(future): i for i, future in enumerate(self.futures)}
        for future in self._completed(self.futures):
            try:
                yield index[id(future)], future.result(), None
            except Exception as exc:  # noqa: BLE001 - handed to the caller, who records or raises it
                yield index[id(future)], None, exc
            finally:
                self._release(future)

    def results(self) -> list[Any]:
        """Every job's result in job order; the first exception a job raised is raised here."""
        values: list[Any] = [None] * len(self.futures)
        for i, result, error in self.as_completed():
            if error is not None:
                raise error
            values[i] = result
        return values


class Executor:
    """Runs jobs ``function(*args)``; see the module docstring. Open with ``open_executor``."""

    def __init__(self, kind: Kind, workers: int, pool: Any = None) -> None:
        self.kind = kind
        self.workers = workers
        self._pool = pool

    def submit(self, function: Callable[..., Any], jobs: Sequence[tuple[Any, ...]]) -> Submitted:
        """Start ``function(*job)`` for every job (inline: run them now, one after another)."""
        if self.kind == "inline":
            futures = [_done(function, job) for job in jobs]
            return Submitted(futures, iter)
        if self.kind == "local":
            return Submitted([self._pool.submit(function, *job) for job in jobs], futures_completed)
        from dask.distributed import as_completed  # Dask: only with --executor dask

        futures = [self._pool.submit(function, *job, pure=False) for job in jobs]
        return Submitted(futures, as_completed, lambda future: future.release())


@contextmanager
def open_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """An executor with ``workers`` workers (default: the CPU count); pools and local clusters are
    closed on exit, waiting for running jobs and cancelling the rest."""
    check_executor(kind, workers, scheduler)
    count = worker_count(workers)
    if kind == "inline":
        yield Executor("inline", 1)
    elif kind == "local":
        pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))
        try:
            yield Executor("local", count, pool)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        with dask_client(count, scheduler) as client:
            yield Executor("dask", count, client)


@contextmanager
def dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A ``dask.distributed`` Client of the cluster at ``scheduler``, or of a LocalCluster of
    ``workers`` single-threaded processes; closed (with the local cluster) on exit."""
    try:
        from dask.distributed import Client, LocalCluster  # Dask: only with --executor dask
    except ImportError:
        raise RegsimError("the dask executor needs dask.distributed (pip install 'dask[distributed]')") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise RegsimError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _done(function: Callable[..., Any], job: tuple[Any, ...]) -> Future:
    """A finished future holding ``function(*job)`` or the exception it raised."""
    future: Future = Future()
    try:
        future.set_result(function(*job))
    except Exception as exc:  # noqa: BLE001 - kept in the future, like a pool's
        future.set_exception(exc)
    return future
