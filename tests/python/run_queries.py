"""Run SQL files over a Weir lake with DuckDB, as Athena would over S3.

Usage: run_queries.py TABLE_DIR QUERY.sql...
The lake's Parquet files, with Hive partitioning, are the view
`ecommerce_events`. Prints one JSON object: file name -> rows (lists).
"""

import datetime
import json
import pathlib
import sys

import duckdb


def plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def main(table_dir: str, queries: list[str]) -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE VIEW ecommerce_events AS SELECT * FROM read_parquet("
        f"'{table_dir}/**/*.parquet', hive_partitioning = true)"
    )
    answers = {}
    for query in queries:
        sql = pathlib.Path(query).read_text()
        rows = con.execute(sql).fetchall()
        answers[pathlib.Path(query).name] = [[plain(v) for v in row] for row in rows]
    print(json.dumps(answers))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
