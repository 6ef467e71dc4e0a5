"""``python -m bench`` still runs end to end (tiny windows): every scenario answers without errors and
the report and the JSON hold every part.  No figure is judged here: timing belongs to the bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only("the bench makes its own SQLite databases; one run is enough")
REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_bench_runs_every_scenario_and_reports_them(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    argv = [sys.executable, "-m", "bench", "--quick", "--bonuses", "200", "--duration", "0.3"]
    argv += ["--warmup", "0.1", "--rounds", "1", "--clients", "2", "--json", str(figures)]
    argv += ["--workdir", str(tmp_path / "work"), "--postgres", ""]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for heading in ("scenario", "ratio (same run)", "interleaved rounds", "measured in-process", "Notes:"):
        assert heading in done.stdout, heading

    doc = json.loads(figures.read_text())
    scenarios = {s["name"]: s for s in doc["scenarios"]}
    assert {"ceiling (bare handler)", "GetAccountBalance", "SendBonus", "ListBonusPayments @ 200"} <= set(
        scenarios
    )
    assert all(s["errors"] == 0 and s["requests"] > 0 for s in scenarios.values()), scenarios
    assert {r["name"] for r in doc["ratios"]} >= {"SendBonus req/s / ceiling req/s"}
    assert [len(r["values"]) for r in doc["interleaved_rounds"]] == [1, 1]
