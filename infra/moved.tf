# Where resources were before the buckets (s3.tf) and the alarms (alarms.tf)
# became one resource per kind with for_each: Terraform moves them in the
# state on the next plan instead of destroying and re-creating them. Remove
# this file once every deployment has applied with it.

moved {
  from = aws_s3_bucket.lake
  to   = aws_s3_bucket.weir["lake"]
}

moved {
  from = aws_s3_bucket.artifacts
  to   = aws_s3_bucket.weir["artifacts"]
}

moved {
  from = aws_s3_bucket.results
  to   = aws_s3_bucket.weir["results"]
}

moved {
  from = aws_s3_bucket_public_access_block.lake
  to   = aws_s3_bucket_public_access_block.weir["lake"]
}

moved {
  from = aws_s3_bucket_public_access_block.artifacts
  to   = aws_s3_bucket_public_access_block.weir["artifacts"]
}

moved {
  from = aws_s3_bucket_public_access_block.results
  to   = aws_s3_bucket_public_access_block.weir["results"]
}

moved {
  from = aws_s3_bucket_ownership_controls.lake
  to   = aws_s3_bucket_ownership_controls.weir["lake"]
}

moved {
  from = aws_s3_bucket_ownership_controls.artifacts
  to   = aws_s3_bucket_ownership_controls.weir["artifacts"]
}

moved {
  from = aws_s3_bucket_ownership_controls.results
  to   = aws_s3_bucket_ownership_controls.weir["results"]
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.lake
  to   = aws_s3_bucket_server_side_encryption_configuration.weir["lake"]
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.artifacts
  to   = aws_s3_bucket_server_side_encryption_configuration.weir["artifacts"]
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.results
  to   = aws_s3_bucket_server_side_encryption_configuration.weir["results"]
}

moved {
  from = aws_s3_bucket_versioning.lake
  to   = aws_s3_bucket_versioning.weir["lake"]
}

moved {
  from = aws_s3_bucket_versioning.artifacts
  to   = aws_s3_bucket_versioning.weir["artifacts"]
}

moved {
  from = aws_s3_bucket_versioning.results
  to   = aws_s3_bucket_versioning.weir["results"]
}

moved {
  from = aws_s3_bucket_logging.lake
  to   = aws_s3_bucket_logging.weir["lake"]
}

moved {
  from = aws_s3_bucket_logging.artifacts
  to   = aws_s3_bucket_logging.weir["artifacts"]
}

moved {
  from = aws_s3_bucket_logging.results
  to   = aws_s3_bucket_logging.weir["results"]
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.lake
  to   = aws_s3_bucket_lifecycle_configuration.weir["lake"]
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.artifacts
  to   = aws_s3_bucket_lifecycle_configuration.weir["artifacts"]
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.results
  to   = aws_s3_bucket_lifecycle_configuration.weir["results"]
}

moved {
  from = aws_s3_bucket_policy.lake
  to   = aws_s3_bucket_policy.weir["lake"]
}

moved {
  from = aws_s3_bucket_policy.artifacts
  to   = aws_s3_bucket_policy.weir["artifacts"]
}

moved {
  from = aws_s3_bucket_policy.results
  to   = aws_s3_bucket_policy.weir["results"]
}

moved {
  from = aws_cloudwatch_metric_alarm.iterator_age
  to   = aws_cloudwatch_metric_alarm.weir["iterator_age"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_errors
  to   = aws_cloudwatch_metric_alarm.weir["lambda_errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.failure_queue
  to   = aws_cloudwatch_metric_alarm.weir["failure_queue"]
}
