# Every resource policy of the deployment refuses requests that do not come
# over TLS (aws:SecureTransport false -> Deny): the four buckets' policies
# (s3.tf), the alarm topic's (alarms.tf), the failure queue's (queue.tf) and
# the ETL failure queue's (etl.tf, with enable_firehose).
# Each starts from its document here; the access-log bucket and the alarm
# topic add statements of their own to it.

locals {
  # What each policy guards: the actions refused, on which ARNs.
  tls_only = merge(
    {
      for key, bucket in merge(aws_s3_bucket.weir, { logs = aws_s3_bucket.logs }) :
      key => { actions = ["s3:*"], resources = [bucket.arn, "${bucket.arn}/*"] }
    },
    {
      alarms   = { actions = ["sns:Publish"], resources = [local.alarm_topic_arn] }
      failures = { actions = ["sqs:*"], resources = [aws_sqs_queue.failures.arn] }
    },
    # The ETL failure queue (etl.tf), when the Firehose variant is on.
    {
      for queue in aws_sqs_queue.etl_failures :
      "etl_failures" => { actions = ["sqs:*"], resources = [queue.arn] }
    },
  )
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.tls_only

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = each.value.actions
    resources = each.value.resources

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
