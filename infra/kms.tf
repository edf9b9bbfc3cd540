# One customer-managed key for everything Weir keeps: the stream, the lake,
# the artifacts, Athena results, the failure queue, the alarm topic, the
# function's environment and its logs.
#
# A customer-managed key rather than the AWS-managed ones (alias/aws/kinesis,
# alias/aws/s3, ...): its policy is ours to read and narrow, it rotates yearly,
# CloudTrail shows every use of it in one place, and revoking it stops every
# read of the data at once. checkov asks for a CMK on Kinesis (CKV_AWS_185),
# SQS, SNS, logs and S3 (CKV_AWS_145) for the same reasons. One key keeps the
# IAM policies short; split it per service if teams need separate custody.

resource "aws_kms_key" "weir" {
  description             = "Weir (${var.name}): stream, lake, artifacts, Athena results, queues and logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "weir" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.weir.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:This document is the key's own policy: in a key policy Resource "*" means this key and nothing else, and kms:* for the account root is the standard statement that hands control of the key to IAM policies (without it the key can become unmanageable).
  #checkov:skip=CKV_AWS_111:This document is the key's own policy: Resource "*" there means this key only; write access is granted by IAM policies that name the key (iam.tf, api.tf).
  #checkov:skip=CKV_AWS_356:This document is the key's own policy, where Resource "*" can only mean this key; the service statements are further limited by encryption context or source account.
  # The account administers the key and grants its use through IAM policies
  # (the function's and the API's roles in iam.tf and api.tf, and analysts'
  # roles, who need kms:Decrypt to read the lake and Athena results).
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts log groups with a service principal, limited here
  # to this account's log groups in this region.
  statement {
    sid = "CloudWatchLogsEncryptsLogGroups"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  # CloudWatch alarms publish to the encrypted alarm topic.
  statement {
    sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

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
