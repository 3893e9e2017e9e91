"""Work in other processes: one forked child with a pipe back, or a pool.

Both fork, so the children inherit every module (user checks too) already
imported, and nothing is re-imported or re-read: on Linux, with two cores.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

# pickle, warnings and concurrent.futures are imported where a child or a pool
# is started: a review that starts neither (a small plan) does not pay for them.

T = TypeVar("T")
R = TypeVar("R")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def available() -> bool:
    """Whether this system forks (Linux) and has a second core to fork to.
    (Asked without importing multiprocessing, which costs a start ~6 ms: on
    Linux its "fork" start method is there whenever os.fork is.)"""
    return sys.platform == "linux" and hasattr(os, "fork") and cores() >= 2


class Child:
    """`work()` in a forked child; its result (plain, picklable data) comes
    back through a pipe. Raises OSError when the system cannot fork now."""

    def __init__(self, work: Callable[[], Any]) -> None:
        import pickle
        import warnings

        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking with threads running: the child
            # takes no lock another thread may hold (it prints nothing).
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                pid = os.fork()
            except OSError:
                os.close(read)
                os.close(write)
                raise
        if pid == 0:
            code = 1
            try:
                os.close(read)
                result = work()
                with os.fdopen(write, "wb") as out:
                    out.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
                code = 0
            finally:
                os._exit(code)  # no cleanup: the parent's files and buffers are its own
        os.close(write)
        self._pid, self._read = pid, read
        self._done = False
        self._result: Any = None

    def result(self) -> Any:
        """The child's result; None when it failed.

        Not waiting for the child to exit (that is its memory being freed):
        a complete message is all it had to give."""
        if not self._done:
            import pickle

            self._done = True
            try:
                with os.fdopen(self._read, "rb") as pipe:
                    data = pipe.read()
                self._result = pickle.loads(data)  # our own child's data
            except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
                self._result = None
            self._read = -1
        return self._result

    def close(self) -> None:
        """Reap the child; if its result was never read (the caller stopped
        early), it gets a broken pipe and exits first."""
        try:
            if self._read >= 0:
                os.close(self._read)
                self._read = -1
            if self._pid:
                os.waitpid(self._pid, 0)
                self._pid = 0
        except OSError:
            pass


def pool(
    work: Callable[[T], R],
    items: list[T],
    *,
    jobs: int | None = None,
    done: Callable[[int, int], None] | None = None,
) -> list[R]:
    """`work` over `items` in forked worker processes (as many at a time as
    the machine has cores); results in the order of `items`, and an error is
    the one the first failing item (in that order) raised."""
    import concurrent.futures
    import multiprocessing

    workers = min(len(items), jobs or cores())
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as executor:
        futures = [executor.submit(work, item) for item in items]
        if done is not None:
            for finished, _ in enumerate(concurrent.futures.as_completed(futures), 1):
                done(finished, len(futures))
        try:
            return [future.result() for future in futures]
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
