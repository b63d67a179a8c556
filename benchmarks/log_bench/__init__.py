"""The cases of ``benchmarks/bench_session_logs.py``, one module each, and what they share."""
