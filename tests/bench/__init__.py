"""Benchmarks, one module per area: `python -m tests.bench <area>`.

Each module starts what it needs (the embedded services under `.data/bench`),
builds its data, runs a reference and the candidate interleaved, prints every
case on its own line and, as the last line, one JSON object (see
/work/shared/BENCHMARKS.md). They are not part of the test suite.
"""
