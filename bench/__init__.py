"""Benchmarks: run them with ``.venv/bin/python bench/<name>.py`` (see bench/README.md)."""
