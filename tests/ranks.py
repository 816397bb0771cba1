"""Run a worker script on several gloo ranks on this machine (the distributed tests)."""

import os
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(worker: Path, out: Path, world: int = 2, timeout: float = 180) -> None:
    """``python worker RANK WORLD PORT OUT`` on ``world`` ranks; fail with their logs."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    port = free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, str(worker), str(rank), str(world), str(port), str(out)],
            env=env,
            cwd=out,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for rank in range(world)
    ]
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=timeout)[0].decode(errors="replace"))
    finally:
        for p in procs:
            p.kill()
    assert all(p.returncode == 0 for p in procs), "\n".join(logs)
