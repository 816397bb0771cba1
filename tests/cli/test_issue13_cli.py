"""Issue 13: the command line refuses bad options before any work, shows progress on
stderr, prints the demo's ratio with two decimals, documents every option, and
answers ``dmc --help`` without importing torch."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dmc.cli import main
from dmc.cli import recommend as recommend_cli
from dmc.cli.main import build_parser
from dmc.recommend.model import RatingsModel
from dmc.reproduce import experiments

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def nothing_runs(monkeypatch):
    """Every experiment and fit fails the test if it starts."""

    def ran(*args, **kwargs):
        raise AssertionError("an experiment ran")

    for name in (
        "compare_methods",
        "compare_peers",
        "fixed_step_trajectories",
        "rank_sweep",
        "parsimony",
        "phase_transition",
        "depth_experiment",
    ):
        monkeypatch.setattr(experiments, name, ran)
    monkeypatch.setattr(RatingsModel, "fit", ran)


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


# -- 14. options with a default are refused, not replaced by it ---------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["reproduce", "fixed-step", "--size", "0"], "'--size' option must be an int ≥ 1. Got 0"),
        (["reproduce", "rank-sweep", "--size", "0"], "'--size' option must be an int ≥ 1. Got 0"),
        (["reproduce", "parsimony", "--size", "0"], "'--size' option"),
        (["reproduce", "all", "--size", "0"], "'--size' option"),
        (["reproduce", "phase-transition", "--size", "0"], "'--size' option"),
        (["reproduce", "depth", "--quick", "--size", "-2"], "'--size' option .*Got -2"),
        (["reproduce", "fixed-step", "--seed", "-1"], "'--seed' option must be an int ≥ 0"),
        (["reproduce", "depth", "--max-iter", "0"], "'--max-iter' option"),
        (["reproduce", "parsimony", "--output-dir", ""], "'--output-dir' option must name a"),
        (["compare", "--shape", "20", "20", "--seed", "-1"], "'--seed' option"),
        (["compare", "--shape", "20", "20", "--n-iter-no-change", "0"], "'--n-iter-no-change'"),
        (["compare", "--shape", "20", "20", "--output-dir", ""], "'--output-dir' option"),
        (["compare", "--shape", "20", "20", "--output-dir", "{file}"], r"'--output-dir' .*a file"),
        (["demo", "--size", "20", "--seed", "-3"], "'--seed' option .*Got -3"),
        (["demo", "--size", "20", "--output", ""], "'--output' option must name a file"),
        (["demo", "--size", "20", "--output", "{dir}/no/fig.png"], "'--output' .*existing folder"),
        (["demo", "--size", "20", "--output", "{dir}"], "'--output' .*a folder"),
    ],
)
def test_bad_options_are_refused_before_any_work(nothing_runs, tmp_path, argv, message):
    (tmp_path / "file.txt").write_text("x")
    argv = [a.format(dir=tmp_path, file=tmp_path / "file.txt") for a in argv]
    status, out, err = _run(argv)
    assert status == 2
    assert err.startswith("dmc: error: The '--"), err
    assert re.search(message, err), err
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_a_given_size_is_used(monkeypatch, tmp_path):
    seen = []

    def parsimony(shape, rank, **kwargs):
        seen.append(shape)
        raise ValueError("stop here")

    monkeypatch.setattr(experiments, "parsimony", parsimony)
    status, _, err = _run(["reproduce", "parsimony", "--size", "7", "--output-dir", str(tmp_path)])
    assert status == 2 and "stop here" in err
    assert seen == [(7, 7)]


# -- 26. dmc recommend: the output is checked before the fit -----------------------------


@pytest.fixture
def ratings_file(tmp_path):
    path = tmp_path / "ok.data"
    path.write_text("1\t1\t3\n1\t2\t4\n2\t1\t5\n2\t2\t3\n")
    return path


@pytest.mark.parametrize(
    "output, message",
    [
        ("", "'--output' option must name a file. Got '' instead"),
        ("{dir}/missing/top.csv", "'--output' option must name a file in an existing folder"),
        ("{dir}", "'--output' option must name a file. Got .*, a folder"),
    ],
)
def test_recommend_output_is_checked_before_the_fit(
    nothing_runs, ratings_file, capsys, output, message
):
    folder = ratings_file.parent
    argv = ["recommend", str(ratings_file), "--test-fraction", "0"]
    status = recommend_cli.main([*argv, "--output", output.format(dir=folder)])
    err = capsys.readouterr().err
    assert status == 2 and re.search(message, err), err
    assert [p.name for p in folder.iterdir()] == ["ok.data"]


# -- 27. progress on stderr; imports that wait for their first use -------------------------


def test_compare_reports_each_fit_on_stderr(tmp_path):
    status, out, err = _run(
        [
            "compare",
            "--shape",
            "16",
            "12",
            "--rank",
            "2",
            "--fraction",
            "0.6",
            "--no-peers",
            "--methods",
            "compressed",
            "narrow",
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert status == 0, err
    lines = err.splitlines()
    assert lines[0] == "[1/2] compressed: fitting..."
    assert re.fullmatch(r"\[1/2\] compressed: error \S+, \S+ s, \d+ iterations", lines[1])
    assert lines[2] == "[2/2] narrow: fitting..."
    assert "[" not in out.split("machine:")[0]  # the table stays on stdout, progress apart


def test_reproduce_reports_each_fit_on_stderr(tmp_path):
    status, out, err = _run(
        ["reproduce", "parsimony", "--size", "8", "--output-dir", str(tmp_path)]
    )
    assert status == 0, err
    assert "[1/2] law of parsimony, 8x8, 100% observed..." in err
    assert "[2/2] law of parsimony, 8x8, 30% observed..." in err
    assert "law of parsimony, 8x8, rank 2, 100% observed" in out


def _fresh(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_import_dmc_and_dmc_help_do_not_import_torch():
    out = _fresh(
        "import sys, contextlib, io\n"
        "import dmc\n"
        "print('torch' in sys.modules, 'sklearn' in sys.modules)\n"
        "from dmc.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as text:\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('torch' in sys.modules, 'usage: dmc' in text.getvalue())\n"
    )
    assert out.split() == ["False", "False", "False", "True"]


def test_every_public_name_is_there_on_first_use(tmp_path):
    # a fresh process: the first name used imports them all, and dmc.load finds the classes
    out = _fresh(
        "import dmc, numpy as np\n"
        "names = sorted(dmc.__all__)\n"
        "missing = [n for n in names if not hasattr(dmc, n)]\n"
        "print(missing, sorted(set(names) - set(dir(dmc))))\n"
        "print(dmc.io.__name__, dmc.core.__name__, dmc.datasets.__name__, dmc.evaluation.__name__)\n"
    )
    assert out.splitlines() == [
        "[] []",
        "dmc.io dmc.core dmc.data dmc.recommend.evaluation",
    ]
    path = tmp_path / "m.dmc"
    _fresh(
        "import dmc, numpy as np\n"
        "X = dmc.low_rank_matrix((12, 8), 2, random_state=0).to_dense()\n"
        "X[::3, 1] = np.nan\n"
        f"dmc.DeepMatrixCompletion(rank=2, max_iter=5).fit(X).save({str(path)!r})\n"
    )
    assert _fresh(f"import dmc\nprint(type(dmc.load({str(path)!r})).__name__)\n").strip() == (
        "DeepMatrixCompletion"
    )


# -- 28. the demo's ratio ----------------------------------------------------------------


def test_demo_prints_the_speed_ratio_with_two_decimals(monkeypatch):
    def compare_methods(problem, *, methods, **options):
        seconds = {"original": 1.36, "compressed": 1.0}
        return [
            dict(method=m, n_parameters=1, n_iter=3, seconds=seconds[m], error=1e-7)
            for m in methods
        ]

    monkeypatch.setattr(experiments, "compare_methods", compare_methods)
    status, out, err = _run(["demo", "--size", "10", "--no-plot"])
    assert status == 0, err
    assert "compressed is 1.36x faster in wall clock" in out


# -- 29. help texts and the README's synopsis ----------------------------------------------


def _subparsers():
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


def test_every_option_has_help_with_its_default():
    for command, parser in _subparsers().items():
        for action in parser._actions:
            if not action.option_strings or action.option_strings == ["-h", "--help"]:
                continue
            name = f"dmc {command} {action.option_strings[-1]}"
            assert action.help, f"{name} has no help"
            if action.default not in (None, False) and not isinstance(action.default, bool):
                assert "default" in action.help, f"{name}: no default in {action.help!r}"


@pytest.mark.parametrize("command", ["compare", "reproduce", "recommend", "demo"])
def test_help_texts_read_well(command):
    status, out, _ = _run([command, "--help"])
    assert status == 0
    assert "%%" not in out and "METHOD.md" not in out
    if command == "compare":
        assert "20% observed" in out and "docs/method.md" in out


def test_readme_synopsis_lists_every_option():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    synopsis = section.split("```text", 1)[1].split("```", 1)[0]
    blocks = re.split(r"\n(?=dmc )", synopsis.strip())
    for command, parser in _subparsers().items():
        lines = " ".join(b for b in blocks if b.startswith(f"dmc {command}"))
        assert lines, f"no synopsis for dmc {command}"
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in lines, f"dmc {command} {flag} missing from the README"


# -- 31. the machine line -----------------------------------------------------------------


def test_the_machine_line_names_the_system_and_python_apart():
    import platform

    line = experiments.machine()
    assert platform.platform() in line
    assert f"Python {platform.python_version()}" in line
    assert f"{platform.system()} {platform.python_version()}" not in line
