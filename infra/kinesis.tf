# The stream producers write clickstream events to.

resource "aws_kinesis_stream" "events" {
  name             = local.stream_name
  retention_period = var.stream_retention_hours

  # Provisioned streams have a fixed shard count; on-demand ones must not.
  shard_count = var.stream_mode == "PROVISIONED" ? var.shard_count : null

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.weir.arn

  # Stream-level metrics are free; the consumer's lag is watched through the
  # function's IteratorAge (alarms.tf), so no paid shard-level metrics.
}
