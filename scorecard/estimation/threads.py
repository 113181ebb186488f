"""Running independent pieces of an estimate on the machine's cores.

The heavy steps (sparse products, sorts, gathers, cumulative sums) are numpy
and scipy calls that release the GIL, so independent pieces — the person- and
household-weighted sums, the medians of different indicators — run in threads
with no copies of the data. Each piece computes exactly what it would alone,
so the numbers do not depend on the number of threads.

The number of threads is the number of CPUs this process may use, or the
``SCORECARD_THREADS`` environment variable (``1`` runs everything in the
calling thread).

Examples
--------
>>> run_all([lambda: 1, lambda: 2])
[1, 2]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from scorecard.errors import EstimationError

__all__ = ["thread_count", "run_all", "start_all"]

T = TypeVar("T")


def thread_count() -> int:
    """Threads to use: ``SCORECARD_THREADS`` if set, else the CPUs available to this process."""
    setting = os.environ.get("SCORECARD_THREADS", "").strip()
    if setting:
        if not setting.isdigit() or int(setting) < 1:
            raise EstimationError(f"SCORECARD_THREADS must be a positive whole number; found {setting!r}.")
        return int(setting)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_all(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Results of calling every task, in order; in threads when there are several tasks and CPUs.

    An exception raised by a task is raised here.
    """
    workers = min(thread_count(), len(tasks))
    if workers <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scorecard") as pool:
        futures = [pool.submit(task) for task in tasks]
        return [future.result() for future in futures]


def start_all(tasks: Sequence[Callable[[], T]]) -> Callable[[], list[T]]:
    """Start the tasks in background threads now; the returned function waits for their results, in order.

    With one thread the tasks run when the results are asked for.

    Examples
    --------
    >>> results = start_all([lambda: 3, lambda: 4])
    >>> results()
    [3, 4]
    """
    if thread_count() <= 1 or not tasks:
        return lambda: [task() for task in tasks]
    pool = ThreadPoolExecutor(max_workers=min(thread_count(), len(tasks)), thread_name_prefix="scorecard")
    futures = [pool.submit(task) for task in tasks]
    pool.shutdown(wait=False)  # the threads end with their tasks
    return lambda: [future.result() for future in futures]
