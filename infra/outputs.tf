output "stream_name" {
  description = "The Kinesis stream producers write events to."
  value       = aws_kinesis_stream.events.name
}

output "stream_arn" {
  description = "ARN of the Kinesis stream."
  value       = aws_kinesis_stream.events.arn
}

output "kms_key_arn" {
  description = "The key everything is encrypted with: producers need kms:GenerateDataKey on it, readers of the lake and of Athena results kms:Decrypt."
  value       = aws_kms_key.weir.arn
}

output "lake_bucket" {
  description = "The lake: processed/ (Parquet), errors/ (dead letters), raw/ and the JSON-lines prefix."
  value       = aws_s3_bucket.weir["lake"].bucket
}

output "artifacts_bucket" {
  description = "Where the pipeline file (pipelines/) and plugins (plugins/) go."
  value       = aws_s3_bucket.weir["artifacts"].bucket
}

output "athena_results_bucket" {
  description = "Athena query results."
  value       = aws_s3_bucket.weir["results"].bucket
}

output "access_logs_bucket" {
  description = "S3 server access logs of the other buckets."
  value       = aws_s3_bucket.logs.bucket
}

output "pipeline_url" {
  description = "Where the function reads its pipeline file (WEIR_PIPELINE)."
  value       = "s3://${aws_s3_bucket.weir["artifacts"].bucket}/${var.pipeline_key}"
}

output "lake_location" {
  description = "The pipeline file's [output] location."
  value       = "s3://${aws_s3_bucket.weir["lake"].bucket}/${local.processed_prefix}"
}

output "dead_letter_location" {
  description = "The pipeline file's [dead_letter] location."
  value       = "s3://${aws_s3_bucket.weir["lake"].bucket}/${local.errors_prefix}"
}

output "function_name" {
  description = "The Lambda function."
  value       = aws_lambda_function.weir.function_name
}

output "log_group" {
  description = "The function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "failure_queue_url" {
  description = "SQS queue of batches the event source mapping gave up on."
  value       = aws_sqs_queue.failures.url
}

output "glue_database" {
  description = "Glue database of the tables (ecommerce_events, ecommerce_events_json, ecommerce_events_errors)."
  value       = aws_glue_catalog_database.weir.name
}

output "athena_workgroup" {
  description = "Athena workgroup to run queries in."
  value       = aws_athena_workgroup.weir.name
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify, or null."
  value       = var.create_alarm_topic ? aws_sns_topic.alarms[0].arn : null
}

output "api_url" {
  description = "Base URL of the ingestion API (POST <url>/event, <url>/events), or null when enable_api is false."
  value       = var.enable_api ? aws_api_gateway_stage.ingest[0].invoke_url : null
}

output "api_execution_arn" {
  description = "Execution ARN of the ingestion API: grant producers execute-api:Invoke on <arn>/<stage>/POST/*."
  value       = var.enable_api ? "${aws_api_gateway_rest_api.ingest[0].execution_arn}/${var.api_stage_name}/POST/*" : null
}

output "region" {
  description = "The region everything is in."
  value       = var.region
}

output "firehose_stream_name" {
  description = "The Firehose delivery stream producers put events to (Direct PUT), or null when enable_firehose is false."
  value       = one(aws_kinesis_firehose_delivery_stream.events[*].name)
}

output "firehose_stream_arn" {
  description = "ARN of the Firehose delivery stream: grant producers firehose:PutRecord and firehose:PutRecordBatch on it. Null when enable_firehose is false."
  value       = one(aws_kinesis_firehose_delivery_stream.events[*].arn)
}

output "firehose_transform_function_name" {
  description = "The Lambda function Firehose transforms records with, or null when enable_firehose is false."
  value       = one(aws_lambda_function.firehose_transform[*].function_name)
}

output "raw_location" {
  description = "The raw zone the delivery stream keeps every source record in and the ETL reads (its event's input), or null when enable_firehose is false."
  value       = var.enable_firehose ? "s3://${aws_s3_bucket.weir["lake"].bucket}/${local.raw_prefix}" : null
}

output "etl_function_name" {
  description = "The Lambda function the nightly schedule invokes to run the previous day's raw zone into the lake, or null when enable_firehose is false."
  value       = one(aws_lambda_function.etl[*].function_name)
}

output "etl_failure_queue_url" {
  description = "SQS queue of ETL runs that failed for good (the event of each), or null when enable_firehose is false."
  value       = one(aws_sqs_queue.etl_failures[*].url)
}
