# The Weir host as a Lambda function on the stream.

locals {
  # The environment of every function made from the zip: this one, and the
  # Firehose transform and the ETL of the Firehose variant (firehose.tf,
  # etl.tf), which run the same pipeline.
  lambda_environment = {
    WEIR_PIPELINE       = "s3://${aws_s3_bucket.weir["artifacts"].bucket}/${var.pipeline_key}"
    WEIR_RELOAD_SECONDS = tostring(var.pipeline_reload_seconds)
    WEIR_LOG            = "info"
  }
}

resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_338:Operational logs of a stream processor, not an audit trail (CloudTrail is that); every event's fate is kept in the lake and its dead letters. Retention is var.log_retention_days, 30 by default, to bound cost; raise it to 365 where policy asks.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.weir.arn
}

resource "aws_lambda_function" "weir" {
  #checkov:skip=CKV_AWS_117:The function reaches only AWS APIs (S3, SQS, CloudWatch, X-Ray) and no private resource; in a VPC it would need a NAT gateway or four interface endpoints for no gain in isolation, and its role already confines what it can touch.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signed zip from CI; the zip is built from this repository and deployed by Terraform with its sha256 (source_code_hash). Add aws_lambda_code_signing_config when releases are signed.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by the event source mapping (at most shards x parallelization_factor invocations), which is the only trigger; reserving concurrency would take it from the account pool. var.lambda_reserved_concurrency sets a cap when wanted.
  function_name = local.function_name
  description   = "Weir: Kinesis clickstream events through WebAssembly plugins into the S3 lake"
  role          = aws_iam_role.lambda.arn

  runtime       = "provided.al2023"
  architectures = ["arm64"]
  handler       = "bootstrap"

  filename         = local.lambda_zip
  source_code_hash = filebase64sha256(local.lambda_zip)

  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.lambda_reserved_concurrency == null ? -1 : var.lambda_reserved_concurrency

  kms_key_arn = aws_kms_key.weir.arn

  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = "Active"
  }

  # Stream batches are invoked synchronously and fail over to the mapping's
  # on-failure destination; this catches asynchronous invocations (by hand,
  # from a test) in the same queue.
  dead_letter_config {
    target_arn = aws_sqs_queue.failures.arn
  }

  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}

resource "aws_lambda_event_source_mapping" "stream" {
  event_source_arn = aws_kinesis_stream.events.arn
  function_name    = aws_lambda_function.weir.arn

  starting_position                  = var.starting_position
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_seconds
  parallelization_factor             = var.parallelization_factor

  # The host answers with batchItemFailures: only the records it could not
  # write are retried (its object names make the retry overwrite, not add).
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = var.bisect_batch_on_function_error
  maximum_retry_attempts         = var.maximum_retry_attempts
  maximum_record_age_in_seconds  = var.maximum_record_age_seconds

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.failures.arn
    }
  }

  # The role must be able to read the stream before the mapping is made.
  depends_on = [aws_iam_role_policy.lambda]
}
