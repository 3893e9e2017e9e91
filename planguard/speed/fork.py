"""Work in other processes: one forked child with a pipe back, or a pool.

Both fork, so the children inherit every module (user checks too) already
imported, and nothing is re-imported or re-read: on Linux, with two cores.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import socket

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


class WorkerLost(Exception):
    """A worker process ended without giving the result of `items[index]`
    (killed, out of memory): the work is incomplete."""

    def __init__(self, index: int, how: str) -> None:
        self.index = index
        self.how = how
        super().__init__(f"worker process {how} before item {index} was done")


class NoWorkers(OSError):
    """No worker process could be started (no processes or files left now):
    nothing was done, and the caller may do the work itself."""


# Hand-out tokens are written whole: a pipe never splits a write of at most
# PIPE_BUF (4,096) bytes, so two workers reading one pipe each get whole tokens.
_TOKEN = 4
_PIPE_ROOM = 4096 // _TOKEN  # tokens any pipe holds (a page) before its writer waits
_DONE = 5  # a message back: the item's index, and 0 (a result) or 1 (an exception)


def pool(
    work: Callable[[T], R],
    items: list[T],
    *,
    jobs: int | None = None,
    done: Callable[[int, int], None] | None = None,
    order: list[int] | None = None,
    then: Callable[[R], Any] | None = None,
) -> list[Any]:
    """`work` over `items` in forked worker processes (as many at a time as
    the machine has cores); results in the order of `items`, and an error is
    the one the first failing item (in that order) raised.

    Items are handed out one at a time, in `order` (indices; default: as
    given) to whichever worker is free: the largest first keeps one worker
    from finishing long after the other. `then(result)`, when given, runs
    here as each result arrives, while the workers go on, and what it
    returns is that item's result. `done(finished, total)` is called as
    items finish.

    No threads: this process waits on one socket, so nothing it does between
    results (`then`) holds up the workers, who take their next item from a
    pipe and leave each result in a file in memory of its own, sent back
    with the message that it is done (its memory is freed once read here).
    Linux (memfd_create, a sequenced-packet socket pair).
    """
    import signal
    import socket

    n = len(items)
    if not n:
        return []
    handout = list(range(n)) if order is None else list(order)
    if sorted(handout) != list(range(n)):
        raise ValueError("order must name every item once")
    workers = max(1, min(n, jobs or cores()))
    tokens_r = tokens_w = -1
    back: socket.socket | None = None
    pids: list[int] = []
    try:
        try:
            tokens_r, tokens_w = os.pipe()
            back, workers_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except OSError as exc:
            raise NoWorkers(str(exc)) from exc
        with workers_end:
            first, rest = handout[:_PIPE_ROOM], handout[_PIPE_ROOM:]
            _write_tokens(tokens_w, first)
            if not rest:
                os.close(tokens_w)
                tokens_w = -1
            for _ in range(workers):
                try:
                    pids.append(_start_worker(work, items, tokens_r, tokens_w, back, workers_end))
                except OSError as exc:  # no more processes now: fewer workers
                    if not pids:
                        raise NoWorkers(str(exc)) from exc
                    break
        os.close(tokens_r)
        tokens_r = -1
        results: dict[int, Any] = {}
        errors: dict[int, BaseException] = {}
        while len(results) + len(errors) < n:
            message, fds, _, _ = socket.recv_fds(back, _DONE, 1)
            if not message:  # every worker is gone, some items undone
                break
            index, failed = int.from_bytes(message[:4], "little"), message[4]
            if rest:  # a worker took a token: there is room for one more
                _write_tokens(tokens_w, rest[:1])
                rest = rest[1:]
                if not rest:
                    os.close(tokens_w)
                    tokens_w = -1
            try:
                if errors and index > min(errors):
                    pass  # an earlier item failed: this result is never used
                elif failed:
                    errors[index] = _unpickled_error(fds[0])
                else:
                    try:
                        result = _unpickled(fds[0])
                        results[index] = then(result) if then is not None else result
                        del result
                    except Exception as exc:  # that item's error
                        errors[index] = exc
            finally:
                for fd in fds:
                    os.close(fd)
            if done is not None:
                done(len(results) + len(errors), n)
            if errors and all(i in results for i in range(min(errors))):
                raise errors[min(errors)]
        if len(results) < n:
            first_undone = min(set(range(n)) - set(results))
            if first_undone in errors:
                raise errors[first_undone]
            raise WorkerLost(first_undone, _how_ended(pids))
        return [results[i] for i in range(n)]
    except BaseException:
        for pid in pids:  # ours, and of no use now
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        raise
    finally:
        for fd in (tokens_r, tokens_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if back is not None:
            back.close()
        # Gone or going by now (each ends once no token is left): no zombies
        # left behind.
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _start_worker(
    work: Callable[[T], Any],
    items: list[T],
    tokens_r: int,
    tokens_w: int,
    back: socket.socket,
    workers_end: socket.socket,
) -> int:
    import warnings

    with warnings.catch_warnings():
        # Python 3.12+ warns about forking with threads running (see Child).
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        back.close()
        if tokens_w >= 0:
            os.close(tokens_w)  # else the last token never reads as the end
        _work_through(work, items, tokens_r, workers_end)
        code = 0
    finally:
        os._exit(code)  # no cleanup: the parent's files and buffers are its own


def _work_through(
    work: Callable[[T], Any], items: list[T], tokens: int, out: socket.socket
) -> None:
    """In a worker: take the next item's token until there are none left."""
    import socket

    while True:
        token = os.read(tokens, _TOKEN)
        if len(token) < _TOKEN:
            return
        index = int.from_bytes(token, "little")
        try:
            parts, failed = _pickled(work(items[index])), 0
        except BaseException as exc:  # the parent raises it
            parts, failed = _pickled_error(exc), 1
        file = _scratch()
        try:
            for part in parts:
                write_all(file, part)
            del parts
            message = index.to_bytes(4, "little") + bytes((failed,))
            socket.send_fds(out, [message], [file])
        finally:
            os.close(file)  # the parent has its own


def _pickled(obj: Any) -> list[Any]:
    """`obj` pickled as what to write one after the other: a header (the
    pickle's length, then each buffer's), the pickle, and the buffers that
    `obj` wraps in pickle.PickleBuffer, beside the pickle rather than copied
    into it (a plan's 10 MB are copied once less here and twice less where
    they are read, see `_unpickled`)."""
    import pickle
    import struct

    buffers: list[pickle.PickleBuffer] = []
    main = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    head = struct.pack(f"<QI{len(raws)}Q", len(main), len(raws), *(r.nbytes for r in raws))
    return [head, main, *raws]


def _unpickled(fd: int) -> Any:
    """What `_pickled` wrote to file `fd` (our own worker's data), the file
    mapped: its buffers are read where they lie, as memoryviews."""
    import mmap
    import pickle
    import struct

    view = memoryview(mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ))
    size, count = struct.unpack_from("<QI", view)
    start = struct.calcsize("<QI") + 8 * count
    main = view[start : start + size]
    start += size
    buffers = []
    for length in struct.unpack_from(f"<{count}Q", view, struct.calcsize("<QI")):
        buffers.append(view[start : start + length])
        start += length
    return pickle.loads(main, buffers=buffers)


def _pickled_error(exc: BaseException) -> list[Any]:
    try:
        return _pickled(exc)
    except Exception:  # an exception that cannot travel
        return _pickled(RuntimeError(f"{type(exc).__name__} in a worker process"))


def _unpickled_error(fd: int) -> BaseException:
    try:
        exc = _unpickled(fd)
    except Exception:  # an exception that cannot be rebuilt here
        return RuntimeError("an exception in a worker process that cannot be rebuilt")
    return exc if isinstance(exc, BaseException) else RuntimeError("a worker process failed")


def _scratch() -> int:
    """A file in memory, for one item's result."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("planguard-result", os.MFD_CLOEXEC)
    import tempfile

    with tempfile.TemporaryFile() as f:
        return os.dup(f.fileno())


def _write_tokens(fd: int, indices: list[int]) -> None:
    data = b"".join(i.to_bytes(_TOKEN, "little") for i in indices)
    for start in range(0, len(data), 4096):
        os.write(fd, data[start : start + 4096])


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write all of `data` to `fd` (a pipe may take it in parts)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _how_ended(pids: list[int]) -> str:
    """How the first worker that did not end well ended, in words."""
    for pid in pids:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            continue
        if os.WIFSIGNALED(status):
            return f"was killed by signal {os.WTERMSIG(status)}"
        if os.WEXITSTATUS(status):
            return f"exited with status {os.WEXITSTATUS(status)}"
    return "ended"
