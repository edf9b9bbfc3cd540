"""Read a Weir lake with readers Weir did not write: pyarrow and DuckDB.

Usage: read_lake.py TABLE_DIR
Prints one JSON object: what pyarrow sees (schema, rows, partition columns)
and what DuckDB counts (rows, rows per action, the timestamp column's type).
"""

import json
import sys

import duckdb
import pyarrow.dataset as ds


def main(table_dir: str) -> None:
    dataset = ds.dataset(table_dir, format="parquet", partitioning="hive")
    table = dataset.to_table()
    schema = {field.name: str(field.type) for field in table.schema}

    glob = f"{table_dir}/**/*.parquet"
    con = duckdb.connect()
    rows = con.execute(
        "SELECT count(*) FROM read_parquet(?, hive_partitioning = true)", [glob]
    ).fetchone()[0]
    per_action = dict(
        con.execute(
            "SELECT action, count(*) FROM read_parquet(?, hive_partitioning = true) "
            "GROUP BY action ORDER BY action",
            [glob],
        ).fetchall()
    )
    timestamp_type = con.execute(
        "SELECT typeof(timestamp) FROM read_parquet(?, hive_partitioning = true) LIMIT 1",
        [glob],
    ).fetchone()[0]
    days = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT year || '-' || month || '-' || day AS d "
            "FROM read_parquet(?, hive_partitioning = true) ORDER BY d",
            [glob],
        ).fetchall()
    ]
    print(
        json.dumps(
            {
                "pyarrow": {"rows": table.num_rows, "schema": schema},
                "duckdb": {
                    "rows": rows,
                    "per_action": per_action,
                    "timestamp_type": timestamp_type,
                    "days": days,
                },
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
