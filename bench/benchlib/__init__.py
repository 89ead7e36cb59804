"""Retrovue benchmarks (python3 standard library only). Entry point: bench/run."""
