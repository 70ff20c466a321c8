"""``frontline plan`` end to end: a file in, a validated plan out; bad input exits 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from frontline import cli
from frontline.dispatch.optimiser.cli import main

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "plan-problem.json"


def test_the_documented_example_plans_with_every_order_placed(tmp_path):
    output = tmp_path / "plan.json"
    code = main(
        ["--input", str(EXAMPLE), "--time-limit", "0.5", "--output", str(output), "--quiet"]
    )
    assert code == 0
    plan = json.loads(output.read_text())
    assert plan["solver"].startswith(("pyvrp", "greedy"))
    placed = [s["order_id"] for r in plan["routes"] for s in r["stops"]]
    left = [o["order_id"] for o in plan["left_out"]]
    assert sorted(placed + left) == sorted(
        o["id"] for o in json.loads(EXAMPLE.read_text())["orders"]
    )
    assert plan["kpis"]["lateness_minutes"] == 0
    assert all("start_at" in s for r in plan["routes"] for s in r["stops"])


def test_invalid_input_exits_2_naming_the_order(tmp_path, capsys):
    data = json.loads(EXAMPLE.read_text())
    data["orders"][1]["windows"] = [{"start": 700, "end": 600}]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert main(["--input", str(bad), "--time-limit", "0.2"]) == 2
    err = capsys.readouterr().err
    assert f"order {data['orders'][1]['id']!r}" in err and "impossible window" in err


def test_unreadable_and_non_json_input_exit_2(tmp_path, capsys):
    assert main(["--input", str(tmp_path / "missing.json")]) == 2
    (tmp_path / "x.json").write_text("{not json")
    assert main(["--input", str(tmp_path / "x.json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_frontline_plan_goes_through_the_console_script_without_django(tmp_path):
    with pytest.raises(SystemExit) as done:
        cli.main(["plan", "--input", str(tmp_path / "none.json")])
    assert done.value.code == 2


def test_frontline_plan_as_a_process_writes_json_to_stdout():
    script = "import sys; from frontline.cli import main; main(sys.argv[1:])"
    env_free = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "plan",
            "--input",
            str(EXAMPLE),
            "--time-limit",
            "0.3",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert env_free.returncode == 0, env_free.stderr
    assert json.loads(env_free.stdout)["routes"]
