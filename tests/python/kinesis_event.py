"""Build a Kinesis event, as a Lambda event source mapping delivers it, from
JSON lines, for tests/host/lambda.rs.

    kinesis_event.py EVENTS.jsonl OUT.json [--aggregate N] [--bad] [--from SEQ]

Each line becomes one record, its data base64, with sequence numbers counting
up from a 56-digit base. --aggregate N packs the first N lines into one
record with the Kinesis Producer Library's aggregated format, written by
aws-kinesis-agg (AWS's own Python aggregator, not Weir's code). --bad adds a
record whose data is not base64 and one that is base64 of broken JSON.
--from SEQ keeps only the records from sequence number SEQ on, as Lambda
sends them again after a partial batch failure.

Prints, as JSON, each record's sequence number and how many user records it
holds.
"""

import argparse
import base64
import json

from aws_kinesis_agg.aggregator import RecordAggregator

BASE = int("496" + "0" * 53)  # 56 digits, as Kinesis writes them
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
SHARD = "shardId-000000000001"


def record(data: str, sequence: int, key: str) -> dict:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": key,
            "sequenceNumber": str(sequence),
            "data": data,
            "approximateArrivalTimestamp": 1771492500.125,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{SHARD}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/weir",
        "awsRegion": "us-east-1",
        "eventSourceARN": ARN,
    }


def partition_key(line: str) -> str:
    """The user id, as producers partition by it; any key for bad input."""
    try:
        return str(json.loads(line).get("user_id", "none"))
    except (ValueError, AttributeError):
        return "none"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("events")
    parser.add_argument("out")
    parser.add_argument("--aggregate", type=int, default=0)
    parser.add_argument("--bad", action="store_true")
    parser.add_argument("--from", dest="start", default=None)
    args = parser.parse_args()
    with open(args.events, encoding="utf-8") as file:
        lines = [line.rstrip("\n") for line in file if line.strip()]
    records = []
    held = []
    sequence = BASE
    if args.aggregate:
        aggregator = RecordAggregator()
        for line in lines[: args.aggregate]:
            full = aggregator.add_user_record("user", line.encode("utf-8"))
            assert full is None, "the aggregate is over Kinesis's record size"
        packed = aggregator.clear_and_get()
        _, _, data = packed.get_contents()
        records.append(record(base64.b64encode(data).decode(), sequence, "user"))
        held.append(args.aggregate)
        sequence += 1
        lines = lines[args.aggregate :]
    for line in lines:
        records.append(record(base64.b64encode(line.encode()).decode(), sequence, partition_key(line)))
        held.append(1)
        sequence += 1
    if args.bad:
        records.append(record("this is not base64!", sequence, "bad"))
        held.append(1)
        sequence += 1
        records.append(record(base64.b64encode(b'{"user_id": "u-9", ').decode(), sequence, "bad"))
        held.append(1)
        sequence += 1
    listing = [
        {"sequence": r["kinesis"]["sequenceNumber"], "user_records": n}
        for r, n in zip(records, held)
    ]
    if args.start is not None:
        keep = [int(r["kinesis"]["sequenceNumber"]) >= int(args.start) for r in records]
        records = [r for r, k in zip(records, keep) if k]
        listing = [entry for entry, k in zip(listing, keep) if k]
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump({"Records": records}, out)
    print(json.dumps(listing))


if __name__ == "__main__":
    main()
