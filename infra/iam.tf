# The function's role: what the Weir host, and the event source mapping on
# its behalf, may do. Nothing else: no wildcard actions, and every resource
# named where AWS lets it be.

locals {
  # What every function made from the zip may read of the artifacts bucket
  # (here, firehose.tf, etl.tf): the pipeline file and the plugins it names,
  # under plugins/ or beside the pipeline under pipelines/.
  pipeline_object_arns = [
    "${aws_s3_bucket.weir["artifacts"].arn}/pipelines/*",
    "${aws_s3_bucket.weir["artifacts"].arn}/plugins/*",
  ]
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${local.function_name}-role"
  description        = "Weir processor: read its stream, its pipeline and plugins; write its lake prefixes"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "lambda" {
  name   = "weir-processor"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

data "aws_iam_policy_document" "lambda" {
  # The event source mapping polls the stream with the function's role. These
  # are the actions Lambda's documentation lists for a standard-iterator
  # mapping; kinesis:ListStreams (account-wide, "*" only) is not among them,
  # nor kinesis:SubscribeToShard (enhanced fan-out consumers only).
  statement {
    sid = "ReadOwnStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [aws_kinesis_stream.events.arn]
  }

  # The pipeline file and the plugins it names: under plugins/, or beside
  # the pipeline under pipelines/ (where relative plugin paths point).
  # s3:GetObject also allows HeadObject, which the host uses for the
  # pipeline's ETag on reload.
  statement {
    sid       = "ReadPipelineAndPlugins"
    actions   = ["s3:GetObject"]
    resources = local.pipeline_object_arns
  }

  # Write the lake: s3:PutObject covers single puts and the multipart calls
  # (Create, UploadPart, Complete); AbortMultipartUpload cleans up a failed
  # one; DeleteObject removes objects the host wrote for a batch that only
  # partly succeeded.
  statement {
    sid = "WriteOwnLakePrefixes"
    actions = [
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
    ]
    resources = [for prefix in local.lake_write_prefixes : "${aws_s3_bucket.weir["lake"].arn}/${prefix}/*"]
  }

  # Batches the mapping gives up on, and failed asynchronous invocations.
  statement {
    sid       = "SendToFailureQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }

  # The stream, the buckets and the queue are encrypted with the Weir key:
  # reading needs Decrypt, writing GenerateDataKey (and Decrypt to complete a
  # multipart upload). Only through those services.
  statement {
    sid       = "UseWeirKeyThroughItsServices"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.weir.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "kinesis.${local.region}.amazonaws.com",
        "s3.${local.region}.amazonaws.com",
        "sqs.${local.region}.amazonaws.com",
      ]
    }
  }

  # Its own log group, made by Terraform (so no logs:CreateLogGroup).
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  # X-Ray has no resource-level permissions: its write actions take "*".
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}
