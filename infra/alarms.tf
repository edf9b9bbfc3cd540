# Three alarms that mean "events are not reaching the lake": the function
# falls behind the stream, the function fails as a whole, or the mapping gave
# up on records (they are in the failure queue). They notify the alarm topic
# when create_alarm_topic is true.

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

data "aws_iam_policy_document" "alarm_topic" {
  # This account's CloudWatch alarms publish.
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = ["arn:${local.partition}:sns:${local.region}:${local.account_id}:${var.name}-alarms"]

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

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = ["arn:${local.partition}:sns:${local.region}:${local.account_id}:${var.name}-alarms"]

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

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = var.create_alarm_topic && var.alarm_email != null ? 1 : 0
  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# The age of the oldest record in the last batch the function read: growing
# means the function cannot keep up (or keeps failing the same batch).
resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name          = "${local.function_name}-iterator-age"
  alarm_description   = "Weir is more than ${var.iterator_age_alarm_ms} ms behind the stream ${local.stream_name}."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.iterator_age_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    FunctionName = aws_lambda_function.weir.function_name
  }
}

# Invocations that failed as a whole (a crash, a timeout, a bad pipeline);
# records the host could not write are reported per record and retried
# without counting here.
resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = "${local.function_name}-errors"
  alarm_description   = "The Weir function failed whole invocations: see its log group /aws/lambda/${local.function_name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.lambda_errors_alarm_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    FunctionName = aws_lambda_function.weir.function_name
  }
}

# Batches the event source mapping gave up on: their records are not in the
# lake. Each message names the shard and sequence numbers to replay.
resource "aws_cloudwatch_metric_alarm" "failure_queue" {
  alarm_name          = "${var.name}-failures-waiting"
  alarm_description   = "Records Weir gave up on are waiting in ${aws_sqs_queue.failures.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.failure_queue_alarm_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dimensions = {
    QueueName = aws_sqs_queue.failures.name
  }
}
