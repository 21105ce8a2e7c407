"""DuckDB, the peer in the lake benchmark: the same SQL over the same Parquet files, and the
same CloudTrail .json.gz -> Parquet conversion, timed in-process like our side.

Usage: duckdb_peer.py LAKE_DIR JSON_DIR OUT_DIR RUNS QUERIES_JSON  (a JSON list of SQL texts)
Prints one JSON object: {"version", "query_ms": [[...] per query], "ingest_s", "ingest_events", "ingest_peak_mb"}.
"""
import glob
import json
import resource
import sys
import time

import duckdb

lake, json_dir, out_dir, runs, queries = sys.argv[1:6]
runs = int(runs)
queries = json.loads(queries)

con = duckdb.connect()
con.execute(
    f"CREATE VIEW cloudtrail_logs AS SELECT * FROM read_parquet('{lake}/cloudtrail_logs/*/*.parquet', hive_partitioning = true)"
)


def timed(sql):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        con.execute(sql).fetchall()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


result = {"version": duckdb.__version__}

# Ingest peer (first, so the process peak is the ingest's): each delivery file to its own Parquet file, as our ingest writes them
# (unnesting all 90 files in one statement runs out of memory on this machine).
con.execute("SET preserve_insertion_order = false")
files = sorted(glob.glob(f"{json_dir}/*.json.gz"))
t = time.perf_counter()
for i, f in enumerate(files):
    con.execute(
        f"""COPY (SELECT unnest(Records, recursive := true) FROM read_json('{f}', maximum_object_size = 1000000000))
            TO '{out_dir}/duckdb_{i:03}.parquet' (FORMAT parquet, COMPRESSION snappy)"""
    )
result["ingest_s"] = time.perf_counter() - t
result["ingest_events"] = con.execute(f"SELECT count(*) FROM read_parquet('{out_dir}/duckdb_*.parquet')").fetchone()[0]
result["ingest_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
con.execute("SET preserve_insertion_order = true")
result["query_ms"] = [timed(q) for q in queries]
print(json.dumps(result))
