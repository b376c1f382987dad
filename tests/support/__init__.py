"""Test-only support code: helpers that the self-tests and benchmarks share and the harness never imports."""
