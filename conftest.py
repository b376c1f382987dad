"""Registers the harness pytest plugin; nothing else lives here."""

pytest_plugins = ["harness.plugin"]
