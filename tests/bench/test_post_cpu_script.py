"""bench/post_cpu.py's accounting: a component's CPU includes its processes that ended during the measurement."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.post_cpu import cpu

# A parent that, on a line from its stdin, runs a child burning CPU, waits for it, says so and stays alive:
# what a postmaster does with a backend whose connection closed, or gunicorn with a replaced worker.
PARENT = """
import subprocess, sys, time
sys.stdin.readline()
subprocess.run([sys.executable, "-c", "x = 0\\nfor i in range(6_000_000): x += i"], check=True)
print("done", flush=True)
time.sleep(60)
"""


@pytest.mark.no_database
def test_cpu_of_children_that_ended_is_counted(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        (tmp_path / "pg").mkdir()
        for name in ("gunicorn.pid", "redis.pid", "pg/postmaster.pid"):
            (tmp_path / name).write_text(f"{parent.pid}\n")
        before = cpu(tmp_path)
        parent.stdin.write("go\n")
        parent.stdin.flush()
        assert parent.stdout.readline().strip() == "done"
        after = cpu(tmp_path)
    finally:
        parent.kill()
        parent.wait()
    # The child burnt a fraction of a second and is gone; only the parent's cutime still holds it.
    assert after["web"] - before["web"] >= 0.15
    assert after["postgresql"] - before["postgresql"] == after["web"] - before["web"]
