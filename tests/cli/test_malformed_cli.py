"""Malformed command lines (see tests/malformed.py)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from malformed import (
    case,
)

from dmc.cli import main as cli_main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# -- the command line --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    content = {
        "bad.data": "1\t2\t3\n1\t2\n",
        "empty.data": "",
        "nocol.csv": "user,item\n1,2\n",
        "ok.data": "1\t1\t3\n1\t2\t4\n2\t1\t5\n2\t2\t3\n",
    }
    for name, text in content.items():
        (folder / name).write_text(text)
    return folder


CLI = [
    case(["recommend", "{bad.data}"], 2, "bad.data", "Got 2 on data row 2", "recommend-short-line"),
    case(["recommend", "{empty.data}"], 2, "empty.data", "holds no ratings", "recommend-empty"),
    case(["recommend", "{nocol.csv}"], 2, "nocol.csv", "no column for", "recommend-no-rating"),
    case(
        ["recommend", "{missing.data}"], 2, "'path'", "must name a file", "recommend-missing-file"
    ),
    case(["recommend", "{ok.data}", "--top-k", "0"], 2, "'--top-k'", "Got 0", "recommend-top-k-0"),
    case(
        ["recommend", "{ok.data}", "--test-fraction", "1.5"],
        2,
        "'--test-fraction'",
        "Got 1.5",
        "recommend-test-fraction",
    ),
    case(
        ["recommend", "{ok.data}", "--threshold", "nan"],
        2,
        "'--threshold'",
        "Got nan",
        "recommend-threshold-nan",
    ),
    case(
        ["recommend", "{ok.data}", "--rank", "abc"],
        2,
        "--rank",
        "invalid int value: 'abc'",
        "recommend-rank-not-int",
    ),
    case(
        ["recommend", "{ok.data}", "--method", "svd"],
        2,
        "--method",
        "invalid choice: 'svd'",
        "recommend-method",
    ),
    case(["recommend", "{ok.data}", "--sep", ";;"], 2, "'sep'", "Got sep=';;'", "recommend-sep"),
    case(
        ["recommend", "{ok.data}", "--rank", "0", "--test-fraction", "0"],
        2,
        "'rank'",
        "Got 0",
        "recommend-rank-0",
    ),
    case(
        ["recommend", "{ok.data}", "--rank", "5", "--test-fraction", "0"],
        2,
        "'rank'",
        r"\[1, 2\]. Got 5",
        "recommend-rank-above-min",
    ),
    case(["demo", "--size", "0"], 2, "'shape'", r"Got \(0, 0\)", "demo-size-0"),
    case(["demo", "--fraction", "2", "--no-plot"], 2, "'fraction'", "Got 2.0", "demo-fraction"),
    case(["demo", "--fraction", "nan"], 2, "'fraction'", "Got nan", "demo-fraction-nan"),
    case(["demo", "--size", "30", "--depth", "1"], 2, "'depth'", "Got 1", "demo-depth-1"),
    case(["compare", "--shape", "0", "5"], 2, "'shape'", r"Got \(0, 5\)", "compare-shape"),
    case(
        ["compare", "--shape", "30", "30", "--rank-estimate", "0", "--no-peers"],
        2,
        "'rank'",
        "Got 0",
        "compare-rank-estimate-0",
    ),
    case(["reproduce", "nothing"], 2, "claim", "invalid choice: 'nothing'", "reproduce-claim"),
    case(
        ["reproduce", "fixed-step", "--rhos", "2"], 2, "'--rhos'", "Got it with", "reproduce-rhos"
    ),
    case(["reproduce", "depth", "--seeds", "0"], 2, "'--seeds'", "Got 0", "reproduce-seeds-0"),
    case([], 2, "command", "required", "no-command"),
    case(["frobnicate"], 2, "command", "invalid choice: 'frobnicate'", "unknown-command"),
]


@pytest.mark.parametrize("argv, code, name, match", CLI)
def test_command_line(files, capsys, argv, code, name, match):
    argv = [str(files / a[1:-1]) if a.startswith("{") else a for a in argv]
    try:
        status = cli_main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    err = capsys.readouterr().err
    assert status == code
    assert "error:" in err and "Traceback" not in err
    assert name in err, err
    assert re.search(match, err), err


def test_command_line_process_exits_cleanly(files):
    proc = subprocess.run(
        [sys.executable, "-m", "dmc.cli", "recommend", str(files / "bad.data")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("dmc: error: The file") and "Traceback" not in proc.stderr
