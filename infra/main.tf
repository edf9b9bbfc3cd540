# Names and facts every other file uses.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = var.region

  # Bucket names are global: the account and region make them unique.
  bucket_suffix = "${local.account_id}-${local.region}"

  lake_bucket_name      = "${var.name}-lake-${local.bucket_suffix}"
  artifacts_bucket_name = "${var.name}-artifacts-${local.bucket_suffix}"
  results_bucket_name   = "${var.name}-athena-${local.bucket_suffix}"
  logs_bucket_name      = "${var.name}-access-logs-${local.bucket_suffix}"

  stream_name   = "${var.name}-events"
  function_name = "${var.name}-processor"

  # The Firehose variant (enable_firehose, firehose.tf and etl.tf): the
  # delivery stream and the two more functions made from the same zip.
  firehose_name           = "${var.name}-firehose"
  transform_function_name = "${var.name}-firehose-transform"
  etl_function_name       = "${var.name}-etl"

  # The lake's layout: what the pipeline file's `location` and
  # `[dead_letter] location` point at (see README.md).
  processed_prefix = "processed"
  errors_prefix    = "errors"
  raw_prefix       = "raw"
  # The Firehose variant's: what the delivery stream writes (transformed
  # events, partitioned by the event's day) and where it files what failed.
  firehose_prefix        = "firehose"
  firehose_errors_prefix = "firehose-errors"

  # Prefixes of the lake the function may write and delete under.
  lake_write_prefixes = distinct(concat(
    [local.processed_prefix, local.errors_prefix],
    var.lake_extra_write_prefixes,
  ))

  # A relative zip path is relative to this folder, an absolute one is kept.
  lambda_zip = startswith(var.lambda_zip_path, "/") ? var.lambda_zip_path : "${path.module}/${var.lambda_zip_path}"

  alarm_actions = var.create_alarm_topic ? [aws_sns_topic.alarms[0].arn] : []
}
