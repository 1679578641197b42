"""A service as a real child process, for tests that kill it (SIGKILL) and start it again."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port


class ServiceProcess:
    """``python -m llmops_<service>`` as a real child process, started and killed by the test."""

    def __init__(self, service: str, env: dict[str, str], workdir: Path) -> None:
        self.service = service
        self.env = env
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self) -> None:
        """Start a new process (its output goes to a log file per run, for failures)."""
        self.runs += 1
        log = (self.workdir / f"{self.service}-run{self.runs}.log").open("wb")
        env = {**self.env, f"LLMOPS_{self.service.upper()}_HEALTH_PORT": str(free_port())}
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"llmops_{self.service}"],
            env=env,
            cwd=self.workdir,  # no developer .env is picked up
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def alive(self) -> bool:
        """Whether the current process is still running."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no drain, no acks, no cleanup."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGTERM and wait for the drain; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise

    def logs(self) -> str:
        """The tail of every run's output."""
        return "\n".join(
            f"--- run {i}:\n" + (self.workdir / f"{self.service}-run{i}.log").read_text()[-3000:]
            for i in range(1, self.runs + 1)
        )
