"""The parts of ``benchmarks/bench_backends.py``: what the cases share, one module per backend,
and the cases."""
