"""Benchmarks that prove the kata's claims; run `python bench/kata_bench.py`."""
