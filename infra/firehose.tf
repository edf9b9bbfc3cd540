# Optional (enable_firehose = true): the Firehose variant. Producers put
# events into an Amazon Data Firehose delivery stream (Direct PUT); Firehose
# has the Weir host transform them (a second function from the same
# bootstrap.zip, answering Firehose's transformation invocations) and
# delivers them to the lake as gzipped JSON lines, partitioned by the
# event's day, while it also keeps every record as it arrived:
#
#   s3://<lake>/firehose/ecommerce_events/year=YYYY/month=MM/day=DD/  the transformed events (day of the event)
#   s3://<lake>/raw/year=YYYY/month=MM/day=DD/                        every source record as received (day of arrival, UTC)
#   s3://<lake>/firehose-errors/<error type>/year=…/month=…/day=…/    records the transform failed or Firehose could not deliver
#   s3://<lake>/firehose-errors/raw/<error type>/year=…/…             raw copies Firehose could not deliver
#
# The raw zone is what the nightly ETL (etl.tf) runs through the pipeline
# into processed/ and errors/. With enable_firehose = false none of this
# exists: every resource here has count = 0.
#
# Direct PUT only, not the Kinesis stream as the source: the stream's events
# already reach processed/ through the event source mapping (lambda.tf), and
# the ETL would write them there a second time.

locals {
  # Where Firehose files a record by the time it arrived (UTC): the raw
  # copies and the errors.
  arrival_day = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"

  # The transform answers each record's partition (year, month, day; two
  # digits for month and day, as the Glue tables' projection expects).
  firehose_events_prefix = "${local.firehose_prefix}/ecommerce_events/year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/"

  # The delivery stream's two log streams: delivery of the transformed
  # events, and of the raw copies.
  firehose_log_streams = {
    destination = "DestinationDelivery"
    backup      = "BackupDelivery"
  }
}

# --- The transform function: the same zip, answering Firehose -------------------

resource "aws_cloudwatch_log_group" "firehose_transform" {
  #checkov:skip=CKV_AWS_338:Operational logs of the Firehose transform, not an audit trail (CloudTrail is that); records it fails are kept under firehose-errors/ and every source record under raw/. Retention is var.log_retention_days, 30 by default, to bound cost.
  count             = var.enable_firehose ? 1 : 0
  name              = "/aws/lambda/${local.transform_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.weir.arn
}

resource "aws_lambda_function" "firehose_transform" {
  #checkov:skip=CKV_AWS_117:The function reaches only AWS APIs (S3 for its pipeline, CloudWatch, X-Ray) and no private resource; in a VPC it would need a NAT gateway or interface endpoints for no gain in isolation, and its role confines what it can touch.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signed zip from CI; the zip is built from this repository and deployed by Terraform with its sha256 (source_code_hash), the same zip as the stream's function.
  #checkov:skip=CKV_AWS_115:Firehose is the only caller and paces its invocations with the delivery stream's throughput, retrying a throttled one; reserving concurrency would take it from the account pool (an account at the default quota cannot reserve any).
  #checkov:skip=CKV_AWS_116:Firehose invokes the transform synchronously and handles a failed invocation itself (retries, then the records go to firehose-errors/processing-failed/); a dead-letter queue only receives failed asynchronous invocations, which this function never gets.
  count         = var.enable_firehose ? 1 : 0
  function_name = local.transform_function_name
  description   = "Weir: Firehose records through the pipeline's WebAssembly plugins (data transformation)"
  role          = aws_iam_role.firehose_transform[0].arn

  runtime       = "provided.al2023"
  architectures = ["arm64"]
  handler       = "bootstrap"

  filename         = local.lambda_zip
  source_code_hash = filebase64sha256(local.lambda_zip)

  memory_size = var.firehose_transform_memory_mb
  timeout     = var.firehose_transform_timeout_seconds

  kms_key_arn = aws_kms_key.weir.arn

  # The same pipeline as the stream's function.
  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [
    aws_cloudwatch_log_group.firehose_transform,
    aws_iam_role_policy.firehose_transform,
  ]
}

# The transform's role: read the pipeline and plugins, write its logs and
# traces. It writes nothing to S3: Firehose delivers what it answers.
resource "aws_iam_role" "firehose_transform" {
  count              = var.enable_firehose ? 1 : 0
  name               = "${local.transform_function_name}-role"
  description        = "Weir Firehose transform: read its pipeline and plugins"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "firehose_transform" {
  count  = var.enable_firehose ? 1 : 0
  name   = "weir-firehose-transform"
  role   = aws_iam_role.firehose_transform[0].id
  policy = data.aws_iam_policy_document.firehose_transform[0].json
}

data "aws_iam_policy_document" "firehose_transform" {
  count = var.enable_firehose ? 1 : 0

  # s3:GetObject also allows HeadObject, for the pipeline's ETag on reload.
  statement {
    sid       = "ReadPipelineAndPlugins"
    actions   = ["s3:GetObject"]
    resources = local.pipeline_object_arns
  }

  # The artifacts bucket is encrypted with the Weir key.
  statement {
    sid       = "DecryptArtifactsThroughS3"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.weir.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose_transform[0].arn}:*"]
  }

  # X-Ray has no resource-level permissions: its write actions take "*".
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

# --- The delivery stream ---------------------------------------------------------

resource "aws_cloudwatch_log_group" "firehose" {
  #checkov:skip=CKV_AWS_338:Delivery errors of the Firehose stream (failed S3 writes, failed transform invocations), operational and not an audit trail; the records themselves are kept under firehose-errors/. Retention is var.log_retention_days, 30 by default, to bound cost.
  count             = var.enable_firehose ? 1 : 0
  name              = "/aws/kinesisfirehose/${local.firehose_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.weir.arn
}

resource "aws_cloudwatch_log_stream" "firehose" {
  for_each       = var.enable_firehose ? local.firehose_log_streams : {}
  name           = each.value
  log_group_name = aws_cloudwatch_log_group.firehose[0].name
}

resource "aws_kinesis_firehose_delivery_stream" "events" {
  count       = var.enable_firehose ? 1 : 0
  name        = local.firehose_name
  destination = "extended_s3"

  # Records wait in Firehose encrypted with the Weir key (Direct PUT).
  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = aws_kms_key.weir.arn
  }

  extended_s3_configuration {
    role_arn    = aws_iam_role.firehose[0].arn
    bucket_arn  = aws_s3_bucket.weir["lake"].arn
    kms_key_arn = aws_kms_key.weir.arn

    # Partitioned by the keys the transform answers; what fails (the
    # transform's ProcessingFailed, records without partition keys, S3
    # errors) goes under the error prefix, by error type and arrival day.
    prefix              = local.firehose_events_prefix
    error_output_prefix = "${local.firehose_errors_prefix}/!{firehose:error-output-type}/${local.arrival_day}"

    # Dynamic partitioning needs a buffer of at least 64 MiB; one object per
    # partition (day) per buffer.
    buffering_size     = var.firehose_buffering_size_mb
    buffering_interval = var.firehose_buffering_interval_seconds
    compression_format = "GZIP"

    dynamic_partitioning_configuration {
      enabled        = true
      retry_duration = 300
    }

    # Only the function's ARN: the processor's other parameters keep
    # Firehose's defaults (1 MB, 60 s, 3 retries, this role), which the
    # provider leaves out of the state, so naming them would show a change
    # on every plan.
    processing_configuration {
      enabled = true

      processors {
        type = "Lambda"

        parameters {
          parameter_name  = "LambdaArn"
          parameter_value = "${aws_lambda_function.firehose_transform[0].arn}:$LATEST"
        }
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose[0].name
      log_stream_name = aws_cloudwatch_log_stream.firehose["destination"].name
    }

    # Source record backup: every record as it arrived, before the
    # transform, into the raw zone the ETL reads.
    s3_backup_mode = "Enabled"

    s3_backup_configuration {
      role_arn            = aws_iam_role.firehose[0].arn
      bucket_arn          = aws_s3_bucket.weir["lake"].arn
      kms_key_arn         = aws_kms_key.weir.arn
      prefix              = "${local.raw_prefix}/${local.arrival_day}"
      error_output_prefix = "${local.firehose_errors_prefix}/${local.raw_prefix}/!{firehose:error-output-type}/${local.arrival_day}"
      buffering_size      = var.firehose_buffering_size_mb
      buffering_interval  = var.firehose_buffering_interval_seconds
      compression_format  = "GZIP"

      cloudwatch_logging_options {
        enabled         = true
        log_group_name  = aws_cloudwatch_log_group.firehose[0].name
        log_stream_name = aws_cloudwatch_log_stream.firehose["backup"].name
      }
    }
  }

  # The role must be able to write and invoke before the first delivery.
  depends_on = [aws_iam_role_policy.firehose]
}

# --- The delivery stream's role ----------------------------------------------------

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }

    # Only Firehose acting for this account.
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  count              = var.enable_firehose ? 1 : 0
  name               = "${local.firehose_name}-delivery"
  description        = "Weir Firehose delivery stream: invoke its transform, write its lake prefixes and logs"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
}

resource "aws_iam_role_policy" "firehose" {
  count  = var.enable_firehose ? 1 : 0
  name   = "weir-firehose-delivery"
  role   = aws_iam_role.firehose[0].id
  policy = data.aws_iam_policy_document.firehose[0].json
}

data "aws_iam_policy_document" "firehose" {
  count = var.enable_firehose ? 1 : 0

  # The three prefixes Firehose writes: transformed events, errors, raw
  # copies. s3:PutObject covers the multipart calls; AbortMultipartUpload
  # cleans up a failed one. No read, list or delete.
  statement {
    sid     = "WriteFirehosePrefixes"
    actions = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [
      for prefix in [local.firehose_prefix, local.firehose_errors_prefix, local.raw_prefix] :
      "${aws_s3_bucket.weir["lake"].arn}/${prefix}/*"
    ]
  }

  # The bucket's region, which Firehose checks before it writes.
  statement {
    sid       = "LocateLake"
    actions   = ["s3:GetBucketLocation"]
    resources = [aws_s3_bucket.weir["lake"].arn]
  }

  # The lake is encrypted with the Weir key: writing needs a data key (and
  # Decrypt to complete a multipart upload). Only through S3.
  statement {
    sid       = "UseWeirKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.weir.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  # The transform, as the processor names it (with :$LATEST) and bare.
  statement {
    sid     = "InvokeTransform"
    actions = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
    resources = [
      aws_lambda_function.firehose_transform[0].arn,
      "${aws_lambda_function.firehose_transform[0].arn}:$LATEST",
    ]
  }

  # Its two log streams, made by Terraform.
  statement {
    sid       = "WriteOwnLogStreams"
    actions   = ["logs:PutLogEvents"]
    resources = [for stream in aws_cloudwatch_log_stream.firehose : "${aws_cloudwatch_log_group.firehose[0].arn}:log-stream:${stream.name}"]
  }
}
