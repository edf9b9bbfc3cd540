# The Glue Data Catalog tables Athena queries: the same tables, columns,
# partition keys and projection as athena/ddl.sql and athena/ddl_json.sql
# (which `weir athena ddl` generates from the pipeline file).
# tests/python/check_infra.py fails when they differ: change the pipeline,
# regenerate the DDL, then change these tables and column lists to match.
# The column lists below are plain literals, in the DDL's order, so the check
# reads them (through each table's `dynamic "columns"` block) as Athena will.
#
# Partition projection computes the partitions from the table properties: no
# crawler, no MSCK REPAIR TABLE, nothing to add as the days go by.

resource "aws_glue_catalog_database" "weir" {
  name        = var.glue_database_name
  description = "Weir clickstream lake (${var.name})"
}

locals {
  lake_url = "s3://${aws_s3_bucket.weir["lake"].bucket}"

  # The events' columns: the same in the Parquet and the JSON-lines table.
  event_columns = [
    { name = "user_id", type = "string" },
    { name = "product_id", type = "string" },
    { name = "product_category", type = "string" },
    { name = "action", type = "string" },
    { name = "price", type = "double" },
    { name = "device", type = "string" },
    { name = "timestamp", type = "timestamp" },
    { name = "event_date", type = "date" },
    { name = "event_hour", type = "bigint" },
    { name = "day_of_week", type = "string" },
    { name = "price_band", type = "string" },
    { name = "is_high_value", type = "boolean" },
  ]

  # A rejected event: why, where from, and the original payload.
  error_columns = [
    { name = "payload", type = "string" },
    { name = "payload_base64", type = "string" },
    { name = "plugin", type = "string" },
    { name = "plugin_version", type = "string" },
    { name = "code", type = "string" },
    { name = "reason", type = "string" },
    { name = "source", type = "string" },
    { name = "position", type = "string" },
    { name = "arrival_time", type = "string" },
  ]

  # The events are partitioned by day; the tables' projection.* properties
  # describe the same keys.
  daily_partition_keys = [
    { name = "year", type = "int" },
    { name = "month", type = "int" },
    { name = "day", type = "int" },
  ]
}

# The events Weir keeps, as Parquet: the pipeline's location is
# s3://<lake>/processed.
resource "aws_glue_catalog_table" "events" {
  name          = "ecommerce_events"
  database_name = aws_glue_catalog_database.weir.name
  description   = "Clickstream events the pipeline kept (Parquet)"
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                  = "TRUE"
    "classification"            = "parquet"
    "parquet.compression"       = "SNAPPY"
    "projection.enabled"        = "true"
    "projection.year.type"      = "integer"
    "projection.year.range"     = "2020,2099"
    "projection.month.type"     = "integer"
    "projection.month.range"    = "1,12"
    "projection.month.digits"   = "2"
    "projection.day.type"       = "integer"
    "projection.day.range"      = "1,31"
    "projection.day.digits"     = "2"
    "storage.location.template" = "${local.lake_url}/${local.processed_prefix}/ecommerce_events/year=$${year}/month=$${month}/day=$${day}"
  }

  dynamic "partition_keys" {
    for_each = local.daily_partition_keys
    content {
      name = partition_keys.value.name
      type = partition_keys.value.type
    }
  }

  storage_descriptor {
    location      = "${local.lake_url}/${local.processed_prefix}/ecommerce_events/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters = {
        "serialization.format" = "1"
      }
    }

    dynamic "columns" {
      for_each = local.event_columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}

# The same events as JSON lines: a pipeline with format = "jsonl" and
# location s3://<lake>/<json_prefix>.
resource "aws_glue_catalog_table" "events_json" {
  name          = "ecommerce_events_json"
  database_name = aws_glue_catalog_database.weir.name
  description   = "Clickstream events the pipeline kept (JSON lines)"
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                  = "TRUE"
    "classification"            = "json"
    "projection.enabled"        = "true"
    "projection.year.type"      = "integer"
    "projection.year.range"     = "2020,2099"
    "projection.month.type"     = "integer"
    "projection.month.range"    = "1,12"
    "projection.month.digits"   = "2"
    "projection.day.type"       = "integer"
    "projection.day.range"      = "1,31"
    "projection.day.digits"     = "2"
    "storage.location.template" = "${local.lake_url}/${var.json_prefix}/ecommerce_events_json/year=$${year}/month=$${month}/day=$${day}"
  }

  dynamic "partition_keys" {
    for_each = local.daily_partition_keys
    content {
      name = partition_keys.value.name
      type = partition_keys.value.type
    }
  }

  storage_descriptor {
    location      = "${local.lake_url}/${var.json_prefix}/ecommerce_events_json/"
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      parameters = {
        "timestamp.formats" = "yyyy-MM-dd'T'HH:mm:ss.SSSZZ,yyyy-MM-dd'T'HH:mm:ssZZ"
      }
    }

    dynamic "columns" {
      for_each = local.event_columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}

# The events Weir rejected, with why and the original payload, filed by
# arrival date: the pipeline's [dead_letter] location is s3://<lake>/errors.
resource "aws_glue_catalog_table" "events_errors" {
  name          = "ecommerce_events_errors"
  database_name = aws_glue_catalog_database.weir.name
  description   = "Rejected clickstream events: payload, plugin, code, reason"
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                    = "TRUE"
    "classification"              = "json"
    "projection.enabled"          = "true"
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy-MM-dd"
    "projection.dt.range"         = "2020-01-01,NOW"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    "storage.location.template"   = "${local.lake_url}/${local.errors_prefix}/ecommerce_events/dt=$${dt}"
  }

  partition_keys {
    name = "dt"
    type = "string"
  }

  storage_descriptor {
    location      = "${local.lake_url}/${local.errors_prefix}/ecommerce_events/"
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
    }

    dynamic "columns" {
      for_each = local.error_columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}
