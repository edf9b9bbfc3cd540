# Four buckets:
#   lake       processed/ (Parquet), errors/ (dead letters), raw/ (optional
#              copy, expires), and the JSON-lines table's prefix
#   artifacts  pipelines/ and plugins/ the function loads (versioned, so a
#              bad pipeline is rolled back by restoring the previous version)
#   results    Athena query results (expire)
#   logs       server access logs of the three above
# All: public access blocked, ACLs disabled, TLS required (tls.tf), versioned,
# old versions and unfinished multipart uploads cleaned up by lifecycle rules.
#
# The first three are made alike, one instance of each resource per entry of
# local.buckets (aws_s3_bucket.weir["lake"], ...), which holds what differs
# between them. The access-log bucket differs in more (SSE-S3, no access log
# of its own, a policy that lets S3 deliver logs) and is written out below.

locals {
  # Per bucket: its name; the prefix of its access logs in the log bucket;
  # its lifecycle rule over the whole bucket (the rule's id, the days an old
  # version is kept, and its expiration block, or null for none); and the
  # prefixes whose objects expire after some days, one rule each.
  buckets = {
    lake = {
      name       = local.lake_bucket_name
      log_prefix = "lake/"
      # Retried batches overwrite their objects and compaction deletes small
      # files: keep the old versions only long enough to undo a mistake, and
      # remove the delete markers they leave.
      lifecycle_rule  = "clean-up"
      noncurrent_days = var.noncurrent_version_retention_days
      expiration      = { expired_object_delete_marker = true }
      # The optional raw copy expires (rule "expire-raw").
      expiring_prefixes = { (local.raw_prefix) = var.raw_retention_days }
    }
    artifacts = {
      name              = local.artifacts_bucket_name
      log_prefix        = "artifacts/"
      lifecycle_rule    = "clean-up"
      noncurrent_days   = var.noncurrent_version_retention_days
      expiration        = null
      expiring_prefixes = {}
    }
    results = {
      name       = local.results_bucket_name
      log_prefix = "athena-results/"
      # Query results are temporary: they expire, and so do their old versions.
      lifecycle_rule    = "expire-results"
      noncurrent_days   = 1
      expiration        = { days = var.athena_results_retention_days }
      expiring_prefixes = {}
    }
  }
}

# --- The lake, artifacts and Athena results buckets ---------------------------

resource "aws_s3_bucket" "weir" {
  #checkov:skip=CKV_AWS_144:Single-region deployment: a replica needs a second region, key and bucket per deployment. The lake and artifacts are versioned against mistakes (pipelines and plugins are also rebuilt from source control); query results expire and can be recomputed from the lake. Add replication when the data must survive the loss of a region.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events: Athena reads the lake on demand through partition projection, the function notices a new pipeline by its ETag every WEIR_RELOAD_SECONDS, and clients fetch query results through the Athena API.
  for_each      = local.buckets
  bucket        = each.value.name
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_public_access_block" "weir" {
  for_each                = local.buckets
  bucket                  = aws_s3_bucket.weir[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "weir" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.weir[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "weir" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.weir[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.weir.arn
    }
    # One data key per bucket for a while instead of a KMS call per object.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "weir" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.weir[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "weir" {
  for_each      = local.buckets
  bucket        = aws_s3_bucket.weir[each.key].id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = each.value.log_prefix

  # S3 refuses a logging target that has not yet granted log delivery.
  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "weir" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.weir[each.key].id

  rule {
    id     = each.value.lifecycle_rule
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.incomplete_upload_days
    }

    noncurrent_version_expiration {
      noncurrent_days = each.value.noncurrent_days
    }

    dynamic "expiration" {
      for_each = each.value.expiration[*]
      content {
        days                         = try(expiration.value.days, null)
        expired_object_delete_marker = try(expiration.value.expired_object_delete_marker, null)
      }
    }
  }

  dynamic "rule" {
    for_each = each.value.expiring_prefixes
    content {
      id     = "expire-${rule.key}"
      status = "Enabled"
      filter {
        prefix = "${rule.key}/"
      }

      expiration {
        days = rule.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.weir]
}

resource "aws_s3_bucket_policy" "weir" {
  for_each   = local.buckets
  bucket     = aws_s3_bucket.weir[each.key].id
  policy     = data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.weir]
}

# --- Server access logs --------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log bucket; logging its own accesses into itself would log the log deliveries without end.
  #checkov:skip=CKV_AWS_144:Access logs are kept access_log_retention_days in the deployment's region; replicate them with the organisation's log archive, not per deployment.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events from access logs.
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to buckets encrypted with SSE-S3 (AES256), not SSE-KMS; the logs are encrypted at rest with S3-managed keys.
  bucket        = local.logs_bucket_name
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}

    expiration {
      days = var.access_log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.incomplete_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

resource "aws_s3_bucket_policy" "logs" {
  bucket     = aws_s3_bucket.logs.id
  policy     = data.aws_iam_policy_document.logs_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# The TLS-only statement (tls.tf), and: S3 delivers the access logs of this
# deployment's buckets, and only those.
data "aws_iam_policy_document" "logs_bucket" {
  source_policy_documents = [data.aws_iam_policy_document.tls_only["logs"].json]

  statement {
    sid       = "S3ServerAccessLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [for bucket in aws_s3_bucket.weir : bucket.arn]
    }
  }
}
