# Three alarms that mean "events are not reaching the lake": the function
# falls behind the stream, the function fails as a whole, or the mapping gave
# up on records (they are in the failure queue); two more with the Firehose
# variant (local.firehose_alarms). They notify the alarm topic when
# create_alarm_topic is true.

resource "aws_sns_topic" "alarms" {
  count             = var.create_alarm_topic ? 1 : 0
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.weir.arn
}

resource "aws_sns_topic_policy" "alarms" {
  count  = var.create_alarm_topic ? 1 : 0
  arn    = aws_sns_topic.alarms[0].arn
  policy = data.aws_iam_policy_document.alarm_topic.json
}

locals {
  # The topic's ARN, known before the topic is made (its policy names it).
  alarm_topic_arn = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${var.name}-alarms"
}

# The TLS-only statement (tls.tf), and: this account's CloudWatch alarms
# publish.
data "aws_iam_policy_document" "alarm_topic" {
  source_policy_documents = [data.aws_iam_policy_document.tls_only["alarms"].json]

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [local.alarm_topic_arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = var.create_alarm_topic && var.alarm_email != null ? 1 : 0
  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  # Each alarm notifies the topic on entering and leaving the alarm state, and
  # treats missing data (no invocations, an empty queue) as not breaching.
  alarms = {
    # The age of the oldest record in the last batch the function read:
    # growing means the function cannot keep up (or keeps failing the same
    # batch).
    iterator_age = {
      name                = "${local.function_name}-iterator-age"
      description         = "Weir is more than ${var.iterator_age_alarm_ms} ms behind the stream ${local.stream_name}."
      namespace           = "AWS/Lambda"
      metric_name         = "IteratorAge"
      statistic           = "Maximum"
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 3
      threshold           = var.iterator_age_alarm_ms
      comparison_operator = "GreaterThanThreshold"
      dimensions          = { FunctionName = aws_lambda_function.weir.function_name }
    }
    # Invocations that failed as a whole (a crash, a timeout, a bad pipeline);
    # records the host could not write are reported per record and retried
    # without counting here.
    lambda_errors = {
      name                = "${local.function_name}-errors"
      description         = "The Weir function failed whole invocations: see its log group /aws/lambda/${local.function_name}."
      namespace           = "AWS/Lambda"
      metric_name         = "Errors"
      statistic           = "Sum"
      period              = 300
      evaluation_periods  = 1
      datapoints_to_alarm = null
      threshold           = var.lambda_errors_alarm_threshold
      comparison_operator = "GreaterThanOrEqualToThreshold"
      dimensions          = { FunctionName = aws_lambda_function.weir.function_name }
    }
    # Batches the event source mapping gave up on: their records are not in
    # the lake. Each message names the shard and sequence numbers to replay.
    failure_queue = {
      name                = "${var.name}-failures-waiting"
      description         = "Records Weir gave up on are waiting in ${aws_sqs_queue.failures.name}."
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateNumberOfMessagesVisible"
      statistic           = "Maximum"
      period              = 300
      evaluation_periods  = 1
      datapoints_to_alarm = null
      threshold           = var.failure_queue_alarm_threshold
      comparison_operator = "GreaterThanOrEqualToThreshold"
      dimensions          = { QueueName = aws_sqs_queue.failures.name }
    }
  }
}

locals {
  # With the Firehose variant (enable_firehose), two more: the transform
  # fails whole invocations (Firehose retries, then files the records under
  # firehose-errors/), or a nightly ETL run failed for good (the ETL failure
  # queue holds its event). Empty when the variant is off.
  firehose_alarms = merge(
    {
      for function in aws_lambda_function.firehose_transform :
      "firehose_transform_errors" => {
        name                = "${function.function_name}-errors"
        description         = "The Firehose transform failed whole invocations: see its log group /aws/lambda/${function.function_name} and s3://${local.lake_bucket_name}/${local.firehose_errors_prefix}/."
        namespace           = "AWS/Lambda"
        metric_name         = "Errors"
        statistic           = "Sum"
        period              = 300
        evaluation_periods  = 1
        datapoints_to_alarm = null
        threshold           = var.lambda_errors_alarm_threshold
        comparison_operator = "GreaterThanOrEqualToThreshold"
        dimensions          = { FunctionName = function.function_name }
      }
    },
    {
      for queue in aws_sqs_queue.etl_failures :
      "etl_failures" => {
        name                = "${queue.name}-waiting"
        description         = "A nightly ETL run failed for good: its event is in ${queue.name}; see the log group /aws/lambda/${local.etl_function_name}, then run that day again."
        namespace           = "AWS/SQS"
        metric_name         = "ApproximateNumberOfMessagesVisible"
        statistic           = "Maximum"
        period              = 300
        evaluation_periods  = 1
        datapoints_to_alarm = null
        threshold           = 1
        comparison_operator = "GreaterThanOrEqualToThreshold"
        dimensions          = { QueueName = queue.name }
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "weir" {
  for_each            = merge(local.alarms, local.firehose_alarms)
  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints_to_alarm
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison_operator
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  dimensions          = each.value.dimensions
}
