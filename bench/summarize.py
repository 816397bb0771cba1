"""Print a pytest-benchmark JSON as one table per group, with ratios to the fastest.

python bench/summarize.py bench/results/run.json
"""

import json
import sys


def main(path):
    with open(path) as fh:
        data = json.load(fh)
    info = data.get("machine_info", {})
    print(
        f"machine: {info.get('cpu', {}).get('brand_raw', info.get('processor', '?'))}, "
        f"{info.get('cpu', {}).get('count', '?')} cpus, python {info.get('python_version', '?')}"
    )
    groups = {}
    for b in data["benchmarks"]:
        groups.setdefault(b["group"], []).append(b)
    for group, rows in groups.items():
        rows.sort(key=lambda b: b["stats"]["median"])
        fastest = rows[0]["stats"]["median"]
        print(f"\n{group}")
        print(f"{'method':<18}{'median s':>10}{'x fastest':>11}{'iterations':>12}{'error':>11}")
        for b in rows:
            e = b["extra_info"]
            method = b["params"]["method"]
            med = b["stats"]["median"]
            print(
                f"{method:<18}{med:>10.3f}{med / fastest:>11.1f}{e['n_iter']:>12}"
                f"{e['recovery_error']:>11.2e}"
            )


if __name__ == "__main__":
    main(sys.argv[1])
