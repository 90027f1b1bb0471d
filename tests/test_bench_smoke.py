"""The benchmark's cases at their smallest, so that `make bench` cannot rot unnoticed.

Phone-like pages (bench/phone.py) join a real Daphne process through the join
form, hold the live socket, and write through the real write path: the
fan-out case (a), the write path (b), and the join, reconnect and restart
storms (c, d, e), each at a tiny size. Every write must reach every page, and
the JSON must have the documented shape. (The PDF and page-weight cases have
tests of their own: tests/test_report.py, tests/test_static_weight.py.)
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "server",
    "case",
    "n",
    "rate",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "lost",
    "deliveries_per_s",
    "cpu_us_per_delivery",
    "rss_kb_per_conn",
    "post_p99_ms",
    "achieved_rate",
    "write_cpu_ms",
}
STORM_KEYS = {"case", "n", "lost", "converged_p99_ms", "failed", "post_p99_ms"}


def test_it_runs_every_live_case_small_and_loses_nothing(tmp_path):
    out = tmp_path / "smoke.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--cases",
            "fanout,write,join,reconnect,restart",
            "--servers",
            "app",
            "--n",
            "3",
            "--rates",
            "5",
            "--duration",
            "2",
            "--burst",
            "0",
            "--writers",
            "2",
            "--write-duration",
            "1",
            "--storm-n",
            "3",
            "--join-window",
            "1",
            "--offline",
            "2",
            "--changes",
            "5",
            "--no-cluster",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = {row["case"]: row for row in json.loads(out.read_text())}
    assert set(rows) == {"fanout", "write_path", "join_storm", "reconnect_storm", "restart_storm"}

    fanout = rows["fanout"]
    assert fanout.keys() >= KEYS
    assert (fanout["server"], fanout["n"], fanout["rate"]) == ("app", 3, 5)
    assert fanout["lost"] == 0
    assert fanout["accepted"] == fanout["writes"] == 10
    assert 0 < fanout["p50_ms"] <= fanout["p99_ms"] <= fanout["max_ms"] < 10_000
    assert 0 < fanout["post_p99_ms"] < 10_000
    assert fanout["cpu_us_per_delivery"] > 0 and fanout["write_cpu_ms"] > 0
    assert fanout["achieved_rate"] > 0

    write = rows["write_path"]
    assert write["accepted"] == write["writes"] and write["write_total_cpu_ms"] > 0

    for case in ("join_storm", "reconnect_storm", "restart_storm"):
        row = rows[case]
        assert row.keys() >= STORM_KEYS, case
        assert row["failed"] == 0 and row["lost"] == 0, (case, row)
        assert row["converged_p99_ms"] is not None, case
    assert rows["join_storm"]["asset_bytes_per_phone"] > 0  # the static files, empty cache
    assert rows["reconnect_storm"]["accepted"] == 5
    assert rows["reconnect_storm"]["catch_up_kb_max"] > 0
    assert "[PASS]" in result.stdout or "[FAIL]" in result.stdout
    assert "reconnect storm" in result.stdout and "lost" in result.stdout
