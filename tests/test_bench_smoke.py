"""The fan-out benchmark's smallest case, so that `make bench` cannot rot unnoticed.

Three phones join a real Daphne process over HTTP, hold the live socket, and
post for two seconds at 5 writes/s through the real write path; every write
must reach every phone, and the JSON must have the documented shape.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "server",
    "n",
    "rate",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "lost",
    "deliveries_per_s",
    "cpu_us_per_delivery",
    "rss_kb_per_conn",
}


def test_it_runs_the_benchmark_on_the_app_and_loses_nothing(tmp_path):
    out = tmp_path / "smoke.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--servers", "app",
            "--n", "3",
            "--rates", "5",
            "--duration", "2",
            "--burst", "0",
            "--no-cluster",
            "--out", str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert len(rows) == 1
    row = rows[0]
    assert row.keys() >= KEYS
    assert (row["server"], row["n"], row["rate"]) == ("app", 3, 5)
    assert row["lost"] == 0
    assert row["accepted"] == row["writes"] == 10
    assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"] < 10_000
    assert row["cpu_us_per_delivery"] > 0
    assert row["deliveries_per_s"] > 0
    assert "app" in result.stdout and "lost" in result.stdout
