"""How many rows contamination="auto" flags, with and without trimmed refits (docs: benchmarks/outliers).

python benchmarks/outlier_auto_threshold.py [--dataset cardio] [--seeds 3]
"""

import argparse
import warnings

import numpy as np
from _common import DATA, print_table

from skae import AutoencoderOutlierDetector


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="cardio")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    data = np.load(DATA / "outliers" / f"{args.dataset}.npz")
    X, y = data["X"].astype(float), data["y"]
    rows = []
    for label, params in [
        ("default (trimmed)", {}),
        ("n_trim_rounds=0", {"n_trim_rounds": 0}),
    ]:
        for seed in range(args.seeds):
            flagged = (
                AutoencoderOutlierDetector(
                    contamination="auto", random_state=seed, **params
                )
                .fit(X)
                .predict(X)
                == -1
            )
            hits = int((flagged & (y == 1)).sum())
            rows.append(
                [
                    label,
                    seed,
                    int(flagged.sum()),
                    f"{hits / y.sum():.2f}",
                    f"{hits / max(1, flagged.sum()):.2f}",
                ]
            )
    print_table(
        f"contamination='auto' on {args.dataset} ({len(X)} rows, {int(y.sum())} outliers)",
        ["detector", "seed", "flagged", "recall", "precision"],
        rows,
        args.out,
    )


if __name__ == "__main__":
    main()
