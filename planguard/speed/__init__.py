"""The speed wing: every process, memory and collector trick planguard plays,
behind one small interface. Nothing outside this package calls `gc`,
`os.fork`, `os._exit`, `mmap` or `madvise`; a reader of the review pipeline
meets only these names, each justified (with its benchmark figure) where it
is defined:

- `collector.paused()`, `collector.freeze()`: the cyclic garbage collector;
- `teardown.one_shot()`, `teardown.keep()`, `teardown.leave()`: exit without
  freeing what a command built;
- `mapped.read()`, `mapped.release()`: plan files memory-mapped, their pages
  given back after the decode;
- `fork.Child`, `fork.pool()`, `fork.available()`: work in another process;
- `parts.for_formats()`: report parts made by the workers of `fork.pool()`;
- `ondemand.FilledOnRead`: a list worked out the first time it is read (a
  plan's edges, which a review mostly never reads whole).

Figures: docs/performance.md, measured by benchmarks/run.py.
"""
