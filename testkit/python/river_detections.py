"""River's drift detectors as the reference for ml/detectors: reads {"cases": [{"detector",
"params", "stream"}]} as JSON on stdin, prints {"detections": [[index, ...], ...]} (for DDM also
"warnings"): the indices at which each detector flagged a change on its stream."""
import json
import sys

from river import drift
from river.drift import binary

BUILD = {
    "adwin": lambda p: drift.ADWIN(
        delta=p.get("delta", 0.002),
        clock=p.get("clock", 32),
        max_buckets=p.get("maxBuckets", 5),
        min_window_length=p.get("minWindowLength", 5),
        grace_period=p.get("gracePeriod", 10),
    ),
    "page-hinkley": lambda p: drift.PageHinkley(
        min_instances=p.get("minInstances", 30),
        delta=p.get("delta", 0.005),
        threshold=p.get("threshold", 50.0),
        alpha=p.get("alpha", 1 - 0.0001),
        mode=p.get("mode", "both"),
    ),
    "ddm": lambda p: binary.DDM(
        warm_start=p.get("warmStart", 30),
        warning_threshold=p.get("warningThreshold", 2.0),
        drift_threshold=p.get("driftThreshold", 3.0),
    ),
}

cases = json.load(sys.stdin)["cases"]
out = {"detections": [], "warnings": []}
for case in cases:
    detector = BUILD[case["detector"]](case.get("params", {}))
    hits, warns = [], []
    for i, x in enumerate(case["stream"]):
        detector.update(x)
        if detector.drift_detected:
            hits.append(i)
        if getattr(detector, "warning_detected", False):
            warns.append(i)
    out["detections"].append(hits)
    out["warnings"].append(warns)
json.dump(out, sys.stdout)
