"""An S3 client Weir did not write (boto3), for tests/host/s3.rs.

    s3.py ENDPOINT make-bucket BUCKET
    s3.py ENDPOINT download BUCKET PREFIX DIR
    s3.py ENDPOINT upload BUCKET KEY FILE

`download` copies every object under PREFIX into DIR (keys become paths
relative to PREFIX) and prints, as JSON, each key with its size, ETag and
content type.
"""

import json
import os
import sys

import boto3


def client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def main() -> None:
    endpoint, command, *args = sys.argv[1:]
    s3 = client(endpoint)
    if command == "make-bucket":
        s3.create_bucket(Bucket=args[0])
        return
    if command == "upload":
        bucket, key, path = args
        with open(path, "rb") as body:
            s3.put_object(Bucket=bucket, Key=key, Body=body.read())
        return
    if command == "download":
        bucket, prefix, target = args
        prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        objects = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                path = os.path.join(target, key[len(prefix):])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                response = s3.get_object(Bucket=bucket, Key=key)
                with open(path, "wb") as out:
                    out.write(response["Body"].read())
                objects.append(
                    {
                        "key": key,
                        "size": item["Size"],
                        "etag": item["ETag"].strip('"'),
                        "content_type": response.get("ContentType"),
                    }
                )
        print(json.dumps(objects))
        return
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
