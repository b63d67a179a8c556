"""The cases of ``benchmarks/bench_events.py``, one module each, and what they share."""
