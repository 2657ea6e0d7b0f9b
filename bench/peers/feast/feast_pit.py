"""The feature store benchmark's data and its Feast peer (bench/feature-store.ts runs both).

  feast_pit.py generate <dir> <feature_rows> <entity_rows> <seed>
      three Delta tables (delta-rs write_deltalake) of feature rows and an entity frame parquet,
      generated with DuckDB: the same files both sides read
  feast_pit.py feast <dir>
      a Feast repo over those tables (FileSource on each table's folder: pyarrow skips
      `_delta_log`), `apply`, then `get_historical_features(...).to_df()` timed; prints one JSON
      line: seconds, rows, and per-feature sums and non-null counts so the TypeScript side can
      check both joins agree

Views: sensor_stats (sensor_id; 4 doubles), sensor_counts (sensor_id; 2 longs, 1 double),
district_stats (district; 3 doubles); TTL 2 days; created_ts breaks ties.
"""
import json
import os
import sys
import time
from datetime import timedelta

SENSORS = 20_000
DISTRICTS = 100
SPAN_DAYS = 30
START = "2026-01-01 00:00:00+00"

VIEWS = {
    "sensor_stats": ("sensor_id", [("f_mean", "DOUBLE"), ("f_min", "DOUBLE"), ("f_max", "DOUBLE"), ("f_std", "DOUBLE")]),
    "sensor_counts": ("sensor_id", [("c_readings", "BIGINT"), ("c_alerts", "BIGINT"), ("c_rate", "DOUBLE")]),
    "district_stats": ("district", [("d_load", "DOUBLE"), ("d_speed", "DOUBLE"), ("d_quality", "DOUBLE")]),
}


def generate(out, feature_rows, entity_rows, seed):
    import duckdb
    from deltalake import write_deltalake

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    per_view = feature_rows // len(VIEWS)
    span_us = SPAN_DAYS * 86_400 * 1_000_000
    for i, (name, (entity, features)) in enumerate(VIEWS.items()):
        keys = SENSORS if entity == "sensor_id" else DISTRICTS
        prefix = "s" if entity == "sensor_id" else "d"
        cols = []
        for j, (f, t) in enumerate(features):
            expr = f"(hash(k, {i * 10 + j}) % 100000) / 100.0" if t == "DOUBLE" else f"(hash(k, {i * 10 + j}) % 1000)::BIGINT"
            cols.append(f"{expr} AS {f}")
        # every 50th row repeats its predecessor's event time with a later created time: ties to break
        sql = f"""
          SELECT '{prefix}' || (k % {keys}) AS {entity},
                 make_timestamptz(epoch_us(TIMESTAMPTZ '{START}') + ts_us) AS event_ts,
                 make_timestamptz(epoch_us(TIMESTAMPTZ '{START}') + ts_us + (k % 7) * 1000000) AS created_ts,
                 {', '.join(cols)}
          FROM (SELECT k, (CASE WHEN k % 50 = 1 THEN hash(k - 1, 99) ELSE hash(k, 99) END % {span_us})::BIGINT AS ts_us
                FROM range({per_view}) t(k))
        """
        table = con.execute(sql).arrow()
        if hasattr(table, "read_all"):
            table = table.read_all()
        write_deltalake(os.path.join(out, name), table, mode="overwrite")
    con.execute(f"""
      COPY (SELECT 's' || (hash(k, 1) % {SENSORS}) AS sensor_id,
             'd' || (hash(k, 2) % {DISTRICTS}) AS district,
             make_timestamptz(epoch_us(TIMESTAMPTZ '{START}') + (hash(k, 3) % {span_us})::BIGINT) AS event_timestamp,
             (hash(k, 4) % 2)::BIGINT AS label
      FROM range({entity_rows}) t(k)) TO '{os.path.join(out, 'entities.parquet')}' (FORMAT parquet)
    """)
    print(json.dumps({"generated": feature_rows, "entities": entity_rows}))


def feast(out):
    import pandas as pd
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64, Int64
    from feast.value_type import ValueType

    repo = os.path.join(out, "feast_repo")
    os.makedirs(repo, exist_ok=True)
    with open(os.path.join(repo, "feature_store.yaml"), "w") as f:
        f.write(
            "project: bench\nprovider: local\nregistry: data/registry.db\n"
            "offline_store:\n  type: file\nonline_store:\n  type: sqlite\n  path: data/online.db\n"
            "entity_key_serialization_version: 3\n"
        )
    entities = {
        "sensor_id": Entity(name="sensor", join_keys=["sensor_id"], value_type=ValueType.STRING),
        "district": Entity(name="district", join_keys=["district"], value_type=ValueType.STRING),
    }
    views = []
    for name, (entity, features) in VIEWS.items():
        source = FileSource(
            name=f"{name}_source",
            path=os.path.join(out, name),
            timestamp_field="event_ts",
            created_timestamp_column="created_ts",
        )
        views.append(
            FeatureView(
                name=name,
                entities=[entities[entity]],
                ttl=timedelta(days=2),
                schema=[Field(name=f, dtype=Float64 if t == "DOUBLE" else Int64) for f, t in features],
                source=source,
                online=False,
            )
        )
    store = FeatureStore(repo_path=repo)
    store.apply([*entities.values(), *views])
    frame = pd.read_parquet(os.path.join(out, "entities.parquet"))
    refs = [f"{name}:{f}" for name, (_, features) in VIEWS.items() for f, _ in features]
    started = time.perf_counter()
    df = store.get_historical_features(entity_df=frame, features=refs).to_df()
    seconds = time.perf_counter() - started
    # Feast's rows, for the TypeScript side to compare value by value with its own join
    df.to_parquet(os.path.join(out, "feast_result.parquet"), index=False)
    checks = {}
    for _, (_, features) in VIEWS.items():
        for f, _ in features:
            column = df[f]
            checks[f] = {"sum": float(column.sum(skipna=True)), "count": int(column.notna().sum())}
    print(json.dumps({"seconds": seconds, "rows": int(len(df)), "checks": checks}))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "generate":
        generate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif command == "feast":
        feast(sys.argv[2])
    else:
        sys.exit(f"unknown command {command}")
