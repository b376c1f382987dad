"""The NCP emulator as a separate process (`python -m harness.emulator ncp`), for tests and scripted benches.

:class:`EmulatorProcess` starts it, reads the endpoint lines it prints (``ncp PATH``, ``dut-cli PATH``,
``pcap PATH``) with a deadline, and always ends it (SIGTERM to its own process id, SIGKILL if it lingers).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT = 60.0  # seconds for the emulator to open its ptys (a loaded 2-core CI machine is slow)
STOP_TIMEOUT = 10.0


class EmulatorProcessError(RuntimeError):
    """The emulator process did not start or did not print its endpoints."""


class EmulatorProcess:
    """``with EmulatorProcess(device="ihd", pcap=path) as ncp:`` -> ``ncp.ncp``, ``ncp.dut_cli``, ``ncp.pcap``."""

    def __init__(self, *, device: str | None = None, pcap: Path | None = None, extra: tuple[str, ...] = (),
                 start_timeout: float = START_TIMEOUT) -> None:
        self.args = [sys.executable, "-m", "harness.emulator", "ncp"]
        if device is not None:
            self.args += ["--device", device]
        if pcap is not None:
            self.args += ["--pcap", str(pcap)]
        self.args += list(extra)
        self.start_timeout = start_timeout
        self.endpoints: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        self._stderr = None
        self._expected = {"ncp"} | ({"dut-cli"} if device else set()) | ({"pcap"} if pcap else set())

    @property
    def ncp(self) -> str:
        return self.endpoints["ncp"]

    @property
    def dut_cli(self) -> str:
        return self.endpoints["dut-cli"]

    def start(self) -> EmulatorProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SE_")}
        # stderr goes to a file: a pipe nobody drains would block the emulator once it fills.
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=self._stderr)
        try:
            self._read_endpoints()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_endpoints(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        # Raw reads of the pipe: a buffered readline could hold several lines while select() waits for more.
        fd = self.process.stdout.fileno()
        pending = b""
        deadline = time.monotonic() + self.start_timeout
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while not self._expected <= self.endpoints.keys():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise EmulatorProcessError(f"the NCP emulator printed {self.endpoints} within "
                                               f"{self.start_timeout:g} s; expected {sorted(self._expected)}")
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise EmulatorProcessError(f"the NCP emulator exited ({self.process.wait()}): "
                                               f"{self.stderr_text().strip()[-500:]}")
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    name, _sep, value = line.decode(errors="replace").strip().partition(" ")
                    self.endpoints[name] = value

    def stderr_text(self) -> str:
        """What the emulator wrote to stderr so far (its warnings and tracebacks)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
        finally:
            if process.stdout is not None:
                process.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
