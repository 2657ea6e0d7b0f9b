"""scikit-learn as the peer of bench/model-training.ts and bench/model-inference.ts.

Reads a JSON job on stdin: {"x": path, "y": path, "rows", "features", "holdout", "params"}; the
files are little-endian float64, row-major. Trains HistGradientBoostingRegressor on the first
rows - holdout rows, scores the holdout, and prints {"train_seconds", "holdout_rmse",
"predict_rows_per_second", "threads"}. Threads are limited to `threads` (1 by default) through
threadpoolctl, so the comparison with the single-threaded TypeScript learner is like for like.
"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

job = json.load(sys.stdin)
rows, features, holdout = job["rows"], job["features"], job["holdout"]
x = np.fromfile(job["x"], dtype="<f8").reshape(rows, features)
y = np.fromfile(job["y"], dtype="<f8")
train_x, train_y = x[: rows - holdout], y[: rows - holdout]
test_x, test_y = x[rows - holdout :], y[rows - holdout :]
p = job["params"]
threads = job.get("threads", 1)
with threadpool_limits(limits=threads):
    model = HistGradientBoostingRegressor(
        max_iter=p["nTrees"],
        learning_rate=p["learningRate"],
        max_depth=p["maxDepth"],
        max_leaf_nodes=None,
        min_samples_leaf=p["minSamplesLeaf"],
        l2_regularization=p["l2"],
        max_bins=p["maxBins"],
        early_stopping=False,
        random_state=0,
    )
    started = time.perf_counter()
    model.fit(train_x, train_y)
    train_seconds = time.perf_counter() - started
    predictions = model.predict(test_x)
    best = float("inf")
    for _ in range(job.get("predict_runs", 5)):
        started = time.perf_counter()
        model.predict(test_x)
        best = min(best, time.perf_counter() - started)
rmse = float(np.sqrt(np.mean((predictions - test_y) ** 2)))
json.dump(
    {
        "train_seconds": train_seconds,
        "holdout_rmse": rmse,
        "predict_rows_per_second": holdout / best,
        "threads": threads,
        "n_iter": int(model.n_iter_),
    },
    sys.stdout,
)
