#!/usr/bin/env python3
"""Computes with pm4py what `tests/pm4py.rs` compares against salesflow-analytics.

Usage: pm4py_check.py FILE          (.csv, .xes or .xes.gz)
Prints one JSON document on stdout (pm4py's banner and progress bars go to stderr):
  {"pm4py": version, "cases": n, "events": n,
   "dfg": [[a, b, count], ...],
   "performance": [[a, b, {"mean", "median", "min", "max", "sum", "stdev"}], ...]  (seconds),
   "start": {activity: count}, "end": {activity: count},
   "variants": [[[activity, ...], count], ...]}

pm4py is AGPL: it is only run here, as an outside check, never linked or shipped.
"""

import json
import math
import os
import sys

os.environ.setdefault("TQDM_DISABLE", "1")

import pandas as pd  # noqa: E402
import pm4py  # noqa: E402


def load(path):
    if path.endswith(".csv"):
        df = pd.read_csv(path)
    else:
        df = pm4py.read_xes(path)
    # The documented way to prepare a log: string case ids and activities, timestamps in UTC,
    # rows without case/activity/timestamp dropped, sorted by (case, timestamp, original order).
    return pm4py.format_dataframe(
        df, case_id="case:concept:name", activity_key="concept:name", timestamp_key="time:timestamp"
    )


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


def main():
    path = sys.argv[1]
    df = load(path)
    dfg, start, end = pm4py.discover_dfg(df)
    # pm4py >= 2.3: (dict (a, b) -> {"mean", "median", "max", "min", "sum", "stdev"} in seconds,
    # start, end). Older versions returned only the mean.
    perf, _, _ = pm4py.discover_performance_dfg(df)
    # pm4py >= 2.3 on a DataFrame: dict tuple(activities) -> count (older: -> list of traces).
    variants = pm4py.get_variants(df)

    def count(v):
        return v if isinstance(v, int) else len(v)

    out = {
        "pm4py": pm4py.__version__,
        "cases": int(df["case:concept:name"].nunique()),
        "events": int(len(df)),
        "dfg": [[a, b, int(c)] for (a, b), c in dfg.items()],
        "performance": [
            [a, b, {k: num(v) for k, v in stats.items()} if isinstance(stats, dict) else {"mean": num(stats)}]
            for (a, b), stats in perf.items()
        ],
        "start": {a: int(c) for a, c in start.items()},
        "end": {a: int(c) for a, c in end.items()},
        "variants": [[list(seq), int(count(c))] for seq, c in variants.items()],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
