# Optional, with the Firehose variant (enable_firehose = true): the nightly
# ETL from the raw zone into the lake, in place of a Glue job. An
# EventBridge Scheduler schedule invokes a third function from the same
# bootstrap.zip once a day (etl_schedule, UTC) with the constant event
#
#   {"etl": {"input": "s3://<lake>/raw"}}
#
# and the Weir host runs the previous UTC day's raw objects
# (raw/year=YYYY/month=MM/day=DD/*) through the pipeline into the pipeline's
# locations, processed/ and errors/. A run the schedule could not start, or
# that failed on every attempt, lands in the ETL failure queue, which an
# alarm watches (alarms.tf).

locals {
  etl_schedule_name = "${var.name}-etl"
  # Known before the schedule exists: its role decrypts only this schedule's
  # payload.
  etl_schedule_arn = "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/default/${local.etl_schedule_name}"

  # The event the schedule sends: the raw zone, no day (the function takes
  # the day before the one it runs on, UTC).
  etl_event = jsonencode({
    etl = {
      input = "s3://${aws_s3_bucket.weir["lake"].bucket}/${local.raw_prefix}"
    }
  })
}

# --- The ETL function ----------------------------------------------------------------

resource "aws_cloudwatch_log_group" "etl" {
  #checkov:skip=CKV_AWS_338:Operational logs of the nightly ETL, not an audit trail (CloudTrail is that); what each run read and wrote stays in the lake and its dead letters. Retention is var.log_retention_days, 30 by default, to bound cost.
  count             = var.enable_firehose ? 1 : 0
  name              = "/aws/lambda/${local.etl_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.weir.arn
}

resource "aws_lambda_function" "etl" {
  #checkov:skip=CKV_AWS_117:The function reaches only AWS APIs (S3, SQS, CloudWatch, X-Ray) and no private resource; in a VPC it would need a NAT gateway or interface endpoints for no gain in isolation, and its role confines what it can touch.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signed zip from CI; the zip is built from this repository and deployed by Terraform with its sha256 (source_code_hash), the same zip as the stream's function.
  #checkov:skip=CKV_AWS_115:Invoked once a day by its schedule (and by hand); reserving concurrency would take it from the account pool, where an account at the default quota cannot reserve any.
  count         = var.enable_firehose ? 1 : 0
  function_name = local.etl_function_name
  description   = "Weir: the raw zone's previous day through the WebAssembly plugins into the S3 lake (nightly ETL)"
  role          = aws_iam_role.etl[0].arn

  runtime       = "provided.al2023"
  architectures = ["arm64"]
  handler       = "bootstrap"

  filename         = local.lambda_zip
  source_code_hash = filebase64sha256(local.lambda_zip)

  memory_size = var.etl_memory_mb
  timeout     = var.etl_timeout_seconds

  kms_key_arn = aws_kms_key.weir.arn

  # The same pipeline as the stream's function: the lake and dead-letter
  # locations it writes are the pipeline file's.
  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = "Active"
  }

  # The schedule invokes asynchronously: a run that failed every attempt
  # (below) is kept here, with the event that started it.
  dead_letter_config {
    target_arn = aws_sqs_queue.etl_failures[0].arn
  }

  depends_on = [
    aws_cloudwatch_log_group.etl,
    aws_iam_role_policy.etl,
  ]
}

# Asynchronous invocations: two more attempts after a failed run, and none
# started more than an hour late, so "the previous day" is still the day the
# schedule meant.
resource "aws_lambda_function_event_invoke_config" "etl" {
  count                        = var.enable_firehose ? 1 : 0
  function_name                = aws_lambda_function.etl[0].function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
}

# --- Its role ------------------------------------------------------------------------

resource "aws_iam_role" "etl" {
  count              = var.enable_firehose ? 1 : 0
  name               = "${local.etl_function_name}-role"
  description        = "Weir ETL: read the raw zone, its pipeline and plugins; write its lake prefixes"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "etl" {
  count  = var.enable_firehose ? 1 : 0
  name   = "weir-etl"
  role   = aws_iam_role.etl[0].id
  policy = data.aws_iam_policy_document.etl[0].json
}

data "aws_iam_policy_document" "etl" {
  count = var.enable_firehose ? 1 : 0

  # s3:GetObject also allows HeadObject, for the pipeline's ETag on reload.
  statement {
    sid       = "ReadPipelineAndPlugins"
    actions   = ["s3:GetObject"]
    resources = local.pipeline_object_arns
  }

  # The raw zone Firehose fills: list a day's objects and read them.
  statement {
    sid       = "ReadRawZone"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.weir["lake"].arn}/${local.raw_prefix}/*"]
  }

  statement {
    sid       = "ListRawZone"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.weir["lake"].arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.raw_prefix}/*"]
    }
  }

  # Write the lake as the stream's function does (processed/, errors/ and
  # lake_extra_write_prefixes): a run again over the same day overwrites
  # its objects; DeleteObject withdraws what a failed run wrote.
  statement {
    sid = "WriteOwnLakePrefixes"
    actions = [
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
    ]
    resources = [for prefix in local.lake_write_prefixes : "${aws_s3_bucket.weir["lake"].arn}/${prefix}/*"]
  }

  # Runs that failed every attempt (dead_letter_config).
  statement {
    sid       = "SendToEtlFailureQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.etl_failures[0].arn]
  }

  # The buckets and the queue are encrypted with the Weir key.
  statement {
    sid       = "UseWeirKeyThroughItsServices"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.weir.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "s3.${local.region}.amazonaws.com",
        "sqs.${local.region}.amazonaws.com",
      ]
    }
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.etl[0].arn}:*"]
  }

  # X-Ray has no resource-level permissions: its write actions take "*".
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

# --- Failed runs -----------------------------------------------------------------------

# What the schedule could not deliver (after its retries) and runs the
# function failed on every attempt: the event, to run again by hand.
resource "aws_sqs_queue" "etl_failures" {
  count                             = var.enable_firehose ? 1 : 0
  name                              = "${var.name}-etl-failures"
  message_retention_seconds         = var.failure_queue_retention_seconds
  kms_master_key_id                 = aws_kms_key.weir.arn
  kms_data_key_reuse_period_seconds = 300
}

# Requests without TLS are refused (tls.tf).
resource "aws_sqs_queue_policy" "etl_failures" {
  count     = var.enable_firehose ? 1 : 0
  queue_url = aws_sqs_queue.etl_failures[0].id
  policy    = data.aws_iam_policy_document.tls_only["etl_failures"].json
}

# --- The schedule ---------------------------------------------------------------------

resource "aws_scheduler_schedule" "etl" {
  count       = var.enable_firehose ? 1 : 0
  name        = local.etl_schedule_name
  group_name  = "default"
  description = "Weir: the raw zone's previous day into the lake (${local.etl_function_name})"

  schedule_expression          = var.etl_schedule
  schedule_expression_timezone = "UTC"

  flexible_time_window {
    mode = "OFF"
  }

  # The payload (the event) is encrypted with the Weir key.
  kms_key_arn = aws_kms_key.weir.arn

  target {
    arn      = aws_lambda_function.etl[0].arn
    role_arn = aws_iam_role.etl_scheduler[0].arn
    input    = local.etl_event

    # Invoking can fail (throttling, the function being updated): try again
    # for up to an hour, then keep the event in the failure queue.
    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 5
    }

    dead_letter_config {
      arn = aws_sqs_queue.etl_failures[0].arn
    }
  }

  depends_on = [aws_iam_role_policy.etl_scheduler]
}

# The schedule's role: invoke the ETL function, and nothing else but what
# its own delivery needs (decrypt its payload, send to the failure queue).
data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "etl_scheduler" {
  count              = var.enable_firehose ? 1 : 0
  name               = "${local.etl_schedule_name}-scheduler"
  description        = "Weir ETL schedule: invoke ${local.etl_function_name}"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

resource "aws_iam_role_policy" "etl_scheduler" {
  count  = var.enable_firehose ? 1 : 0
  name   = "weir-etl-scheduler"
  role   = aws_iam_role.etl_scheduler[0].id
  policy = data.aws_iam_policy_document.etl_scheduler[0].json
}

data "aws_iam_policy_document" "etl_scheduler" {
  count = var.enable_firehose ? 1 : 0

  statement {
    sid       = "InvokeEtl"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.etl[0].arn]
  }

  # Scheduler decrypts the schedule's payload with this role: only this
  # schedule's (the encryption context names it).
  statement {
    sid       = "DecryptOwnSchedulePayload"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.weir.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:scheduler:schedule:arn"
      values   = [local.etl_schedule_arn]
    }
  }

  statement {
    sid       = "SendToEtlFailureQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.etl_failures[0].arn]
  }

  statement {
    sid       = "EncryptThroughSqs"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.weir.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.amazonaws.com"]
    }
  }
}
