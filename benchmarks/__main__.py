"""``python -m benchmarks``: run the benchmark suite (see run.py)."""

from benchmarks.run import main

raise SystemExit(main())
