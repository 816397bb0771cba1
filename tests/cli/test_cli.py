import subprocess
import sys

from dmc.cli import main


def test_demo_prints_table_and_writes_figure(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--size", "150", "--fraction", "0.4", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "original" in text and "compressed" in text and "recovery error" in text
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_rejects_bad_arguments(capsys):
    assert main(["demo", "--size", "60", "--rank", "0", "--no-plot"]) == 2
    assert "'rank'" in capsys.readouterr().err


def test_console_entry_point_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "dmc.cli", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout.startswith("dmc ")
