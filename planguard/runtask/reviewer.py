"""The server's side of a review worker process (planguard.runtask.child).

One `ReviewProcess` per worker: started with the server, given one plan at a
time, killed and started again when a review overruns its time or the
process dies, and replaced after `reviews_per_process` reviews so that its
memory stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import msgspec

from planguard.runtask.child import Job, Result

# A result line holds the Markdown report (at most 64 KiB) and the outcomes.
LINE_LIMIT = 16 * 1024 * 1024


class ReviewError(Exception):
    """The review process failed the run: one line, for the callback's message."""


class ReviewProcess:
    def __init__(self, reviews_per_process: int = 200) -> None:
        self.reviews_per_process = reviews_per_process
        self._proc: asyncio.subprocess.Process | None = None
        self._done = 0
        self._decode = msgspec.json.Decoder(Result).decode

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "planguard.runtask.child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # Tracebacks and warnings can quote a plan: they are not logged.
            stderr=asyncio.subprocess.DEVNULL,
            limit=LINE_LIMIT,
            env=os.environ.copy(),
        )
        self._done = 0

    async def review(self, job: Job, timeout: float) -> Result:
        """The result of `job`; ReviewError when the process overran or died."""
        proc = self._proc
        if proc is None or proc.returncode is not None or self._done >= self.reviews_per_process:
            await self.close()
            await self.start()
            proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        self._done += 1
        try:
            proc.stdin.write(msgspec.json.encode(job) + b"\n")
            await proc.stdin.drain()
            line = await asyncio.wait_for(proc.stdout.readline(), timeout)
        except TimeoutError:
            await self._reap()
            raise ReviewError(
                f"the review took longer than {timeout:g} s and was stopped"
            ) from None
        except (OSError, ValueError, asyncio.LimitOverrunError):
            await self._reap()
            raise ReviewError("the review process failed") from None
        if not line:
            code = await self._reap()
            raise ReviewError(f"the review process stopped (exit status {code})")
        try:
            return self._decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            await self._reap()
            raise ReviewError("the review process gave no result") from None

    async def _reap(self) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        return await proc.wait()

    async def close(self) -> None:
        """Stop the process: end its input, then kill it if it lingers."""
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 2)
        await self._reap()
