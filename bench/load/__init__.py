"""The load test's own server pieces (settings, URLs, the bare view, query counting) and its
Locust file; driven by bench/load_test.py. Never part of Slate's production URLs."""
