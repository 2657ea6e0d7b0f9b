"""scikit-learn's HistGradientBoostingClassifier as the peer of the log-loss boosting test.

Reads a JSON job on stdin: {"x": path, "y": path, "rows", "features", "holdout", "params"}; the
files are little-endian float64, row-major. Trains on the first rows - holdout rows with the same
parameters as the TypeScript learner (no early stopping, no leaf cap, one thread), and prints the
holdout {"log_loss", "auc", "probabilities"}.
"""
import json
import os
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss, roc_auc_score
from threadpoolctl import threadpool_limits

job = json.load(sys.stdin)
rows, features, holdout = job["rows"], job["features"], job["holdout"]
x = np.fromfile(job["x"], dtype="<f8").reshape(rows, features)
y = np.fromfile(job["y"], dtype="<f8").astype(int)
p = job["params"]
with threadpool_limits(limits=1):
    model = HistGradientBoostingClassifier(
        loss="log_loss",
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
    model.fit(x[: rows - holdout], y[: rows - holdout])
    probabilities = model.predict_proba(x[rows - holdout :])[:, 1]
test_y = y[rows - holdout :]
json.dump(
    {
        "log_loss": float(log_loss(test_y, probabilities)),
        "auc": float(roc_auc_score(test_y, probabilities)),
    },
    sys.stdout,
)
sys.stdout.flush()
# leave without the interpreter's teardown (see testkit/python/delta_read.py: native pools at exit)
os._exit(0)
