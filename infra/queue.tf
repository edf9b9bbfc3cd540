# Where the event source mapping sends a batch it gave up on (retries spent,
# or records older than maximum_record_age_seconds): a message naming the
# shard and the sequence-number range, to replay from the stream while it
# still holds them.

resource "aws_sqs_queue" "failures" {
  name                              = "${var.name}-failures"
  message_retention_seconds         = var.failure_queue_retention_seconds
  kms_master_key_id                 = aws_kms_key.weir.arn
  kms_data_key_reuse_period_seconds = 300
}

# Requests without TLS are refused (tls.tf).
resource "aws_sqs_queue_policy" "failures" {
  queue_url = aws_sqs_queue.failures.id
  policy    = data.aws_iam_policy_document.tls_only["failures"].json
}
