"""Mutation testing of the reference devices (python -m tests.mutation; tox -e mutation)."""
