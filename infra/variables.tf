# Every input of the deployment, with its default and its valid range. The
# table in README.md lists the same.

# --- Where and what ----------------------------------------------------------

variable "region" {
  description = "AWS region to deploy into, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "name" {
  description = "Prefix of every resource name (stream, function, buckets, tables' database). Lower case letters, digits and dashes, 2-20 characters, starting with a letter."
  type        = string
  default     = "weir"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name)) && !endswith(var.name, "-")
    error_message = "name must be 2-20 characters of a-z, 0-9 and '-', start with a letter and not end with '-'."
  }
}

variable "tags" {
  description = "Tags added to every resource (besides Project and Deployment)."
  type        = map(string)
  default     = {}
}

variable "kms_deletion_window_days" {
  description = "Days a deleted KMS key waits before it is gone (7-30). Everything Weir stores is encrypted with it."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

# --- Kinesis -----------------------------------------------------------------

variable "stream_mode" {
  description = "ON_DEMAND (capacity follows traffic, no shards to manage) or PROVISIONED (a fixed shard_count)."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "shard_count" {
  description = "Shards of a PROVISIONED stream (1 MB/s or 1,000 records/s in each). Ignored when stream_mode is ON_DEMAND."
  type        = number
  default     = 1

  validation {
    condition     = var.shard_count >= 1 && var.shard_count <= 1000 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count must be a whole number from 1 to 1000."
  }
}

variable "stream_retention_hours" {
  description = "Hours the stream keeps a record (24-8760). Records older than maximum_record_age_seconds are given up by the function before that."
  type        = number
  default     = 24

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760
    error_message = "stream_retention_hours must be between 24 and 8760."
  }
}

# --- Lambda ------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "The zip `cargo lambda build --release --arm64 -p weir-lambda --output-format zip` writes: target/lambda/weir-lambda/bootstrap.zip, or under $CARGO_TARGET_DIR/lambda/weir-lambda/ when CARGO_TARGET_DIR is set. Relative to this folder unless absolute."
  type        = string
  default     = "../target/lambda/weir-lambda/bootstrap.zip"

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file."
  }
}

variable "lambda_memory_mb" {
  description = "Function memory in MB (128-10240); CPU grows with it."
  type        = number
  default     = 512

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Function timeout in seconds (1-900): one batch must be read, run through the plugins and written within it."
  type        = number
  default     = 60

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900
    error_message = "lambda_timeout_seconds must be between 1 and 900."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions of the function, or null for none (the event source mapping already runs at most shards x parallelization_factor at once)."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_reserved_concurrency == null ? true : (var.lambda_reserved_concurrency >= 0 && var.lambda_reserved_concurrency <= 10000)
    error_message = "lambda_reserved_concurrency must be null or between 0 and 10000."
  }
}

variable "pipeline_key" {
  description = "Key of the pipeline file in the artifacts bucket; the function reads s3://<artifacts>/<pipeline_key>. Must be under pipelines/ (the function may read only pipelines/ and plugins/)."
  type        = string
  default     = "pipelines/clickstream.toml"

  validation {
    condition     = startswith(var.pipeline_key, "pipelines/") && endswith(var.pipeline_key, ".toml") && length(var.pipeline_key) > length("pipelines/.toml")
    error_message = "pipeline_key must look like pipelines/<name>.toml."
  }
}

variable "pipeline_reload_seconds" {
  description = "WEIR_RELOAD_SECONDS: how often, in seconds, a warm function checks the pipeline object's ETag and swaps to the new pipeline when it changed; 0 checks before every batch (0-3600)."
  type        = number
  default     = 30

  validation {
    condition     = var.pipeline_reload_seconds >= 0 && var.pipeline_reload_seconds <= 3600 && floor(var.pipeline_reload_seconds) == var.pipeline_reload_seconds
    error_message = "pipeline_reload_seconds must be a whole number from 0 to 3600."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's (and the API's) logs; one of the values CloudWatch accepts."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "lake_extra_write_prefixes" {
  description = "Lake prefixes the function may write besides processed/ and errors/: add the json_prefix value when the pipeline writes JSON lines there, or \"raw\" for a raw copy."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.lake_extra_write_prefixes : can(regex("^[a-z0-9][a-z0-9_-]*$", p))])
    error_message = "each of lake_extra_write_prefixes must be one folder name: a-z, 0-9, '_' and '-', no slashes."
  }
}

# --- Event source mapping ----------------------------------------------------

variable "batch_size" {
  description = "Most records in one invocation (1-10000)."
  type        = number
  default     = 1000

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "maximum_batching_window_seconds" {
  description = "Seconds Lambda waits to fill a batch before invoking (0-300): larger batches make fewer, larger files."
  type        = number
  default     = 5

  validation {
    condition     = var.maximum_batching_window_seconds >= 0 && var.maximum_batching_window_seconds <= 300
    error_message = "maximum_batching_window_seconds must be between 0 and 300."
  }
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard (1-10)."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelization_factor >= 1 && var.parallelization_factor <= 10
    error_message = "parallelization_factor must be between 1 and 10."
  }
}

variable "starting_position" {
  description = "Where a new mapping starts reading: LATEST (new records only) or TRIM_HORIZON (everything the stream still holds)."
  type        = string
  default     = "LATEST"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.starting_position)
    error_message = "starting_position must be LATEST or TRIM_HORIZON."
  }
}

variable "bisect_batch_on_function_error" {
  description = "Split a batch in two and retry the halves when the function fails as a whole, to isolate a poison record."
  type        = bool
  default     = true
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before its records go to the failure queue (-1 = until they expire, 0-10000)."
  type        = number
  default     = 10

  validation {
    condition     = var.maximum_retry_attempts >= -1 && var.maximum_retry_attempts <= 10000
    error_message = "maximum_retry_attempts must be between -1 and 10000."
  }
}

variable "maximum_record_age_seconds" {
  description = "Records older than this are not retried but sent to the failure queue (-1 = never, or 60-604800)."
  type        = number
  default     = 86400

  validation {
    condition     = var.maximum_record_age_seconds == -1 || (var.maximum_record_age_seconds >= 60 && var.maximum_record_age_seconds <= 604800)
    error_message = "maximum_record_age_seconds must be -1 or between 60 and 604800."
  }
}

variable "failure_queue_retention_seconds" {
  description = "Seconds the failure queue keeps a message (60-1209600, i.e. up to 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.failure_queue_retention_seconds >= 60 && var.failure_queue_retention_seconds <= 1209600
    error_message = "failure_queue_retention_seconds must be between 60 and 1209600."
  }
}

# --- S3 ----------------------------------------------------------------------

variable "raw_retention_days" {
  description = "Days objects under the lake's raw/ prefix are kept (1-3650)."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_retention_days >= 1 && var.raw_retention_days <= 3650
    error_message = "raw_retention_days must be between 1 and 3650."
  }
}

variable "athena_results_retention_days" {
  description = "Days Athena query results are kept (1-3650)."
  type        = number
  default     = 30

  validation {
    condition     = var.athena_results_retention_days >= 1 && var.athena_results_retention_days <= 3650
    error_message = "athena_results_retention_days must be between 1 and 3650."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten or deleted object version is kept in the versioned buckets, to undo a mistake (1-3650)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && var.noncurrent_version_retention_days <= 3650
    error_message = "noncurrent_version_retention_days must be between 1 and 3650."
  }
}

variable "incomplete_upload_days" {
  description = "Days after which an unfinished multipart upload is aborted and its parts deleted (1-30)."
  type        = number
  default     = 2

  validation {
    condition     = var.incomplete_upload_days >= 1 && var.incomplete_upload_days <= 30
    error_message = "incomplete_upload_days must be between 1 and 30."
  }
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs are kept (1-3650)."
  type        = number
  default     = 90

  validation {
    condition     = var.access_log_retention_days >= 1 && var.access_log_retention_days <= 3650
    error_message = "access_log_retention_days must be between 1 and 3650."
  }
}

variable "force_destroy_buckets" {
  description = "Let `terraform destroy` delete buckets that still hold objects. Keep false outside experiments."
  type        = bool
  default     = false
}

# --- Glue and Athena ---------------------------------------------------------

variable "glue_database_name" {
  description = "Glue Data Catalog database holding the tables (lower case letters, digits and '_')."
  type        = string
  default     = "weir"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,254}$", var.glue_database_name))
    error_message = "glue_database_name must start with a letter and hold only a-z, 0-9 and '_'."
  }
}

variable "json_prefix" {
  description = "Lake prefix of the JSON-lines table: s3://<lake>/<json_prefix>/ecommerce_events_json/ (a pipeline with format = \"jsonl\" and location s3://<lake>/<json_prefix>)."
  type        = string
  default     = "json"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*$", var.json_prefix)) && !contains(["processed", "errors", "raw"], var.json_prefix)
    error_message = "json_prefix must be one folder name (a-z, 0-9, '_', '-') other than processed, errors and raw."
  }
}

variable "athena_workgroup_name" {
  description = "Athena workgroup whose settings (result location, encryption, scan limit) every query in it must use."
  type        = string
  default     = "weir"

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]{1,128}$", var.athena_workgroup_name))
    error_message = "athena_workgroup_name must be 1-128 characters of letters, digits, '.', '_' and '-'."
  }
}

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Bytes one query may scan before Athena cancels it (at least 10485760 = 10 MB). Default 10 GiB."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.athena_bytes_scanned_cutoff_per_query >= 10485760
    error_message = "athena_bytes_scanned_cutoff_per_query must be at least 10485760 (10 MB)."
  }
}

# --- Optional HTTP ingestion -------------------------------------------------

variable "enable_api" {
  description = "Create a REST API (API Gateway, IAM-signed requests) that puts events straight into the stream."
  type        = bool
  default     = false
}

variable "api_stage_name" {
  description = "Stage of the ingestion API (part of its URL)."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,128}$", var.api_stage_name))
    error_message = "api_stage_name must be 1-128 characters of letters, digits, '_' and '-'."
  }
}

variable "api_throttle_rate_limit" {
  description = "Steady requests per second the ingestion API accepts across all callers (1-10000)."
  type        = number
  default     = 100

  validation {
    condition     = var.api_throttle_rate_limit >= 1 && var.api_throttle_rate_limit <= 10000
    error_message = "api_throttle_rate_limit must be between 1 and 10000."
  }
}

variable "api_throttle_burst_limit" {
  description = "Burst of requests the ingestion API accepts above the rate limit (1-5000)."
  type        = number
  default     = 200

  validation {
    condition     = var.api_throttle_burst_limit >= 1 && var.api_throttle_burst_limit <= 5000
    error_message = "api_throttle_burst_limit must be between 1 and 5000."
  }
}

variable "api_manage_cloudwatch_role" {
  description = "With enable_api: set this region's API Gateway account setting to a role that can write CloudWatch logs (needed for access logs). Set false when the account already has one: the setting is shared by every API in the region."
  type        = bool
  default     = true
}

# --- Optional Firehose variant and nightly ETL ---------------------------------

variable "enable_firehose" {
  description = "Create the Firehose variant: a Direct PUT delivery stream whose records the Weir host transforms (a second function from the same zip) into s3://<lake>/firehose/, with every source record kept under raw/, and a nightly schedule that runs the previous day's raw/ through the pipeline into processed/ (a third function from the same zip)."
  type        = bool
  default     = false
}

variable "firehose_buffering_size_mb" {
  description = "MiB the delivery stream gathers per partition (and for the raw copy) before it writes an object (64-128; dynamic partitioning needs at least 64)."
  type        = number
  default     = 64

  validation {
    condition     = var.firehose_buffering_size_mb >= 64 && var.firehose_buffering_size_mb <= 128 && floor(var.firehose_buffering_size_mb) == var.firehose_buffering_size_mb
    error_message = "firehose_buffering_size_mb must be a whole number from 64 to 128."
  }
}

variable "firehose_buffering_interval_seconds" {
  description = "Seconds the delivery stream gathers records before it writes an object, whatever their size (60-900): how late a record reaches the lake at most, about."
  type        = number
  default     = 300

  validation {
    condition     = var.firehose_buffering_interval_seconds >= 60 && var.firehose_buffering_interval_seconds <= 900 && floor(var.firehose_buffering_interval_seconds) == var.firehose_buffering_interval_seconds
    error_message = "firehose_buffering_interval_seconds must be a whole number from 60 to 900."
  }
}

variable "firehose_transform_memory_mb" {
  description = "Memory in MB of the Firehose transform function (128-10240); CPU grows with it."
  type        = number
  default     = 512

  validation {
    condition     = var.firehose_transform_memory_mb >= 128 && var.firehose_transform_memory_mb <= 10240
    error_message = "firehose_transform_memory_mb must be between 128 and 10240."
  }
}

variable "firehose_transform_timeout_seconds" {
  description = "Timeout in seconds of the Firehose transform function (60-300): Firehose asks for at least a minute, and waits at most five."
  type        = number
  default     = 60

  validation {
    condition     = var.firehose_transform_timeout_seconds >= 60 && var.firehose_transform_timeout_seconds <= 300
    error_message = "firehose_transform_timeout_seconds must be between 60 and 300."
  }
}

variable "etl_schedule" {
  description = "When the nightly ETL runs, an EventBridge Scheduler cron() or rate() expression in UTC. It processes the UTC day before the run, so keep it early in the day and after the last buffer of the day before is delivered (firehose_buffering_interval_seconds)."
  type        = string
  default     = "cron(30 1 * * ? *)"

  validation {
    condition     = can(regex("^(cron|rate)\\(.+\\)$", var.etl_schedule))
    error_message = "etl_schedule must be a cron(...) or rate(...) expression, e.g. cron(30 1 * * ? *)."
  }
}

variable "etl_memory_mb" {
  description = "Memory in MB of the ETL function (128-10240); CPU grows with it, and a day's raw objects are read one at a time."
  type        = number
  default     = 2048

  validation {
    condition     = var.etl_memory_mb >= 128 && var.etl_memory_mb <= 10240
    error_message = "etl_memory_mb must be between 128 and 10240."
  }
}

variable "etl_timeout_seconds" {
  description = "Timeout in seconds of the ETL function (60-900): a whole day of raw objects must be read, run and written within it; past that, run days with `weir etl` instead."
  type        = number
  default     = 900

  validation {
    condition     = var.etl_timeout_seconds >= 60 && var.etl_timeout_seconds <= 900
    error_message = "etl_timeout_seconds must be between 60 and 900."
  }
}

# --- Alarms ------------------------------------------------------------------

variable "create_alarm_topic" {
  description = "Create an encrypted SNS topic that the alarms notify."
  type        = bool
  default     = true
}

variable "alarm_email" {
  description = "Email address subscribed to the alarm topic (confirm the subscription mail), or null for none."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null ? true : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be null or an email address."
  }
}

variable "iterator_age_alarm_ms" {
  description = "Alarm when the oldest record the function reads is older than this many milliseconds (it falls behind the stream)."
  type        = number
  default     = 300000

  validation {
    condition     = var.iterator_age_alarm_ms >= 1000
    error_message = "iterator_age_alarm_ms must be at least 1000."
  }
}

variable "lambda_errors_alarm_threshold" {
  description = "Alarm when the function fails (as a whole, not per record) at least this many times in 5 minutes."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_errors_alarm_threshold >= 1
    error_message = "lambda_errors_alarm_threshold must be at least 1."
  }
}

variable "failure_queue_alarm_threshold" {
  description = "Alarm when the failure queue holds at least this many messages (records Lambda gave up on)."
  type        = number
  default     = 1

  validation {
    condition     = var.failure_queue_alarm_threshold >= 1
    error_message = "failure_queue_alarm_threshold must be at least 1."
  }
}
