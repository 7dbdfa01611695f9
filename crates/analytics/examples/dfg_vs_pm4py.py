#!/usr/bin/env python3
"""Times pm4py on one CSV for `examples/dfg_vs_pm4py.rs`: loading (pandas `read_csv` +
`pm4py.format_dataframe`) and `pm4py.discover_performance_dfg`, best of RUNS.

Usage: dfg_vs_pm4py.py FILE.csv [RUNS]   → one JSON line on stdout.
"""

import json
import os
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")

import pandas as pd  # noqa: E402
import pm4py  # noqa: E402


def best(runs, f):
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t)
    return min(times), result


def main():
    path, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    load_s, df = best(runs, lambda: pm4py.format_dataframe(pd.read_csv(path)))
    dfg_s, (perf, _, _) = best(runs, lambda: pm4py.discover_performance_dfg(df))
    edges = {f"{a}\u2192{b}": v["mean"] for (a, b), v in perf.items()}
    print(json.dumps({"pm4py": pm4py.__version__, "events": len(df), "load_s": load_s, "dfg_s": dfg_s, "mean": edges}))


if __name__ == "__main__":
    main()
