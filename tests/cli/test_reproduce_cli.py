"""`dmc reproduce phase-transition` and `dmc reproduce depth` on their --quick grids."""

import contextlib
import io
import json
import re

import pytest

from dmc.cli import main
from dmc.reproduce import summaries

PNG = b"\x89PNG\r\n\x1a\n"


def _run(tmp_path_factory, claim):
    """One --quick run with --json; (its folder, stdout, stderr). 200 iterations: a shape test.

    stderr is not a terminal here, so progress comes as one line per fit.
    """
    folder = tmp_path_factory.mktemp(claim)
    argv = ["reproduce", claim, "--quick", "--max-iter", "200", "--json"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main([*argv, "--output-dir", str(folder)]) == 0
    return folder, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def phase(tmp_path_factory):
    return _run(tmp_path_factory, "phase-transition")


@pytest.fixture(scope="module")
def depth(tmp_path_factory):
    return _run(tmp_path_factory, "depth")


def test_phase_transition_prints_the_table_and_thresholds(phase):
    folder, out, err = phase
    assert out.startswith("machine: ") and "60x60, rank r = 2" in out and "max_iter 200" in out
    table = [line.split() for line in out.splitlines() if re.match(r"\s+(1|10)\s+\d", line)]
    # (κ, r̂, ρ, |Ω|, successes, median error, median seconds) per (κ, r̂, ρ)
    assert [row[:4] for row in table] == [
        [k, rh, rho, str(round(float(rho) * 2 * 118))]
        for k in ("1", "10")
        for rh in ("2", "4")
        for rho in ("2", "4")
    ]
    assert all(re.fullmatch(r"[01]/1", row[4]) for row in table)
    stars = re.findall(r"κ (\d+), r̂ (\d): ρ\* (> 4|2|4)", out)
    assert [s[:2] for s in stars] == [("1", "2"), ("1", "4"), ("10", "2"), ("10", "4")]
    assert "ScaledGD 2.9" in out and "R2RILS (public Python code, true rank) 2" in out
    # progress: one line per fit on a stream that is not a terminal
    assert [line.split("]")[0] for line in err.splitlines()] == [f"[{i}/8" for i in range(1, 9)]
    assert (folder / "dmc-phase-transition.png").read_bytes()[:8] == PNG


def test_phase_transition_json_round_trips(phase):
    folder, out, _ = phase
    saved = json.loads((folder / "dmc-phase-transition.json").read_text())
    assert set(saved) == {"problem", "machine", "rows", "summary", "thresholds"}
    assert len(saved["rows"]) == 8 and len(saved["summary"]) == 8
    # the tables recomputed from the rows read back are the tables written (and printed)
    assert summaries.recovery_thresholds(saved["rows"]) == saved["thresholds"]
    assert summaries.phase_transition_summary(saved["rows"]) == saved["summary"]
    for t in saved["thresholds"]:
        star = f"> {t['largest']:g}" if t["threshold"] is None else f"{t['threshold']:g}"
        assert f"κ {t['condition_number']:g}, r̂ {t['rank_estimate']}: ρ* {star}" in out


def test_depth_prints_the_table(depth):
    folder, out, err = depth
    assert "depth (Arora, Cohen, Hu, Luo 2019): 30x30, rank 2" in out
    table = [line.split() for line in out.splitlines() if re.match(r"(original|compressed) ", line)]
    # method, |Ω|, ρ, L, params, error, MSE, MSE min..max, erank, iterations, seconds
    assert [row[:2] + row[3:4] for row in table] == [
        [m, c, d] for m in ("original", "compressed") for c in ("200", "450") for d in ("2", "3")
    ]
    assert all(len(row) == 11 for row in table)
    assert len(err.splitlines()) == 8
    assert (folder / "dmc-depth.png").read_bytes()[:8] == PNG


def test_depth_json_round_trips(depth):
    folder, out, _ = depth
    saved = json.loads((folder / "dmc-depth.json").read_text())
    assert len(saved["rows"]) == 8
    assert summaries.depth_summary(saved["rows"]) == saved["summary"]
    assert {"error", "mse", "effective_rank", "n_parameters"} <= set(saved["rows"][0])


@pytest.mark.parametrize(
    "argv, match",
    [
        (
            ["fixed-step", "--rhos", "2"],
            "'--rhos' option applies to 'dmc reproduce phase-transition'",
        ),
        (
            ["all", "--quick"],
            "'--quick' option applies to 'dmc reproduce phase-transition and depth'",
        ),
        (["depth", "--kappas", "1"], "'--kappas' option applies to"),
        (
            ["phase-transition", "--depths", "3"],
            "'--depths' option applies to 'dmc reproduce depth'",
        ),
        (["depth", "--seeds", "0"], "'--seeds' option must be an int ≥ 1. Got 0"),
        (["phase-transition", "--quick", "--rhos", "0"], "'oversampling' parameter"),
        (["phase-transition", "--quick", "--kappas", "0.5"], "'condition_numbers' parameter"),
        (["depth", "--quick", "--samples", "900"], "'n_observed' parameter"),
    ],
)
def test_grid_options_are_checked_before_any_fit(tmp_path, capsys, argv, match):
    assert main(["reproduce", *argv, "--output-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert re.search(match, captured.err), captured.err
    assert "[1/" not in captured.err  # nothing was fitted
    assert not list(tmp_path.iterdir())


def test_progress_is_a_bar_on_a_terminal(monkeypatch):
    from dmc.cli.commands import _progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    progress = _progress(lambda row: f"fit {row['i']}")
    for i in (1, 2, 3):
        progress(i, 3, dict(i=i))
    text = stream.getvalue()
    assert "3/3" in text and "fit 3" in text and "[1/3]" not in text
