"""A Kinesis client Weir did not write (boto3), for tests/host/kinesis.rs.

    kinesis.py ENDPOINT create-stream NAME SHARDS
    kinesis.py ENDPOINT split NAME
    kinesis.py ENDPOINT shards NAME

`create-stream` waits until the stream is active. `split` splits the first
open shard at the middle of its hash range, so it closes and two children
open. `shards` prints each shard's id, parents and whether it is closed, as
JSON.
"""

import json
import sys
import time

import boto3


def client(endpoint: str):
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def shards(kinesis, name: str) -> list:
    found, token = [], None
    while True:
        page = kinesis.list_shards(NextToken=token) if token else kinesis.list_shards(StreamName=name)
        found.extend(page["Shards"])
        token = page.get("NextToken")
        if not token:
            return found


def main() -> None:
    endpoint, command, name, *args = sys.argv[1:]
    kinesis = client(endpoint)
    if command == "create-stream":
        kinesis.create_stream(StreamName=name, ShardCount=int(args[0]))
        for _ in range(100):
            status = kinesis.describe_stream_summary(StreamName=name)
            if status["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
                return
            time.sleep(0.1)
        raise SystemExit(f"stream {name} did not become active")
    if command == "split":
        shard = next(s for s in shards(kinesis, name) if "EndingSequenceNumber" not in s["SequenceNumberRange"])
        low = int(shard["HashKeyRange"]["StartingHashKey"])
        high = int(shard["HashKeyRange"]["EndingHashKey"])
        kinesis.split_shard(
            StreamName=name,
            ShardToSplit=shard["ShardId"],
            NewStartingHashKey=str((low + high) // 2),
        )
        print(shard["ShardId"])
        return
    if command == "shards":
        print(json.dumps([
            {
                "id": s["ShardId"],
                "parent": s.get("ParentShardId"),
                "closed": "EndingSequenceNumber" in s["SequenceNumberRange"],
            }
            for s in shards(kinesis, name)
        ]))
        return
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
