"""``make run``: start the embedded stack, drive demo traffic through it, keep it running.

Starts ``llmops dev`` (nats-server + six services), waits for its ``ready`` line, runs the demo
application against it, then prints where to look and stays up until Ctrl-C (or SIGTERM), which
stops every process it started.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import demo_app

DATA_DIR = Path(os.environ.get("LLMOPS_DATA_DIR", ".llmops"))


def main() -> int:
    """Run the stack and the demo; returns the stack's exit code."""
    llmops = Path(sys.executable).parent / "llmops"
    dev = subprocess.Popen(
        [str(llmops), "dev", "--data-dir", str(DATA_DIR)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    signal.signal(signal.SIGTERM, lambda *_: dev.terminate())
    url = None
    try:
        assert dev.stdout is not None
        for line in dev.stdout:
            sys.stdout.write(line)
            if url is None and (found := re.search(r"ready: .* on (nats://\S+)", line)):
                url = found.group(1)
                asyncio.run(demo_app.main(url, DATA_DIR))
                print(
                    "\nThe suite is running. In another terminal:\n"
                    f"  NATS_URL={url} .venv/bin/llmops tail              # every event so far\n"
                    f"  NATS_URL={url} .venv/bin/llmops tail --stream dlq # dead letters\n"
                    f"  NATS_URL={url} .venv/bin/llmops tail --follow     # live\n"
                    f"  NATS_URL={url} .venv/bin/llmops costs report --tenant acme --by model\n"
                    f"  NATS_URL={url} .venv/bin/llmops costs budget list --tenant acme\n"
                    f"  NATS_URL={url} .venv/bin/llmops audit verify --tenant acme\n"
                    "Press Ctrl-C to stop everything.\n",
                    flush=True,
                )
    except KeyboardInterrupt:
        dev.send_signal(signal.SIGINT)  # the terminal sent it too; this covers a lone Ctrl-C
        for line in dev.stdout or ():  # keep draining so shutdown logs never block on the pipe
            sys.stdout.write(line)
    return dev.wait()


if __name__ == "__main__":
    raise SystemExit(main())
