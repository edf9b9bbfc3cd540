# The Athena workgroup: results in the results bucket, encrypted with the Weir
# key, a scan limit per query, and settings a client cannot override.

resource "aws_athena_workgroup" "weir" {
  name          = var.athena_workgroup_name
  description   = "Queries over the Weir lake (${var.name})"
  force_destroy = var.force_destroy_buckets

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = "s3://${aws_s3_bucket.weir["results"].bucket}/results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.weir.arn
      }
    }
  }
}

# The sample questions of athena/queries/, saved in the workgroup: open one
# in the console's "Saved queries" and run it.
resource "aws_athena_named_query" "samples" {
  for_each = fileset("${path.module}/../athena/queries", "*.sql")

  name        = trimsuffix(each.value, ".sql")
  description = "athena/queries/${each.value}"
  workgroup   = aws_athena_workgroup.weir.id
  database    = aws_glue_catalog_database.weir.name
  query       = file("${path.module}/../athena/queries/${each.value}")
}
