# Optional HTTP ingestion (enable_api = true): a REST API whose methods are
# AWS service integrations straight to Kinesis PutRecord / PutRecords, with no
# code of ours in between.
#
#   POST /<stage>/event    one event (a JSON object)    -> PutRecord
#   POST /<stage>/events   {"records": [event, ...]}     -> PutRecords (1-500)
#
# Authentication: IAM (SigV4-signed requests). Callers need
# execute-api:Invoke on the API; AWS advises against API keys as a means of
# authentication, and IAM needs no secret of ours to hand out or rotate.
# Validation: the body must be JSON of the right shape (an object; or a
# "records" array of 1-500 objects); the business rules stay in the plugins,
# so a bad event still reaches the dead-letter zone with its reason.
# The partition key is the event's user_id (a user's events stay in order),
# or the request id when it has none.

locals {
  api_route_definitions = {
    event = {
      action      = "PutRecord"
      description = "One clickstream event"
      schema = jsonencode({
        "$schema"     = "http://json-schema.org/draft-04/schema#"
        title         = "Event"
        type          = "object"
        minProperties = 1
      })
      request_template = <<-VTL
        #set($pk = $input.path('$.user_id'))
        #if("$!pk" == "")#set($pk = $context.requestId)#end
        {
          "StreamName": "${aws_kinesis_stream.events.name}",
          "Data": "$util.base64Encode($input.body)",
          "PartitionKey": "$util.escapeJavaScript($pk)"
        }
      VTL
    }
    events = {
      action      = "PutRecords"
      description = "Up to 500 clickstream events"
      schema = jsonencode({
        "$schema" = "http://json-schema.org/draft-04/schema#"
        title     = "Events"
        type      = "object"
        required  = ["records"]
        properties = {
          records = {
            type     = "array"
            minItems = 1
            maxItems = 500
            items    = { type = "object" }
          }
        }
      })
      request_template = <<-VTL
        {
          "StreamName": "${aws_kinesis_stream.events.name}",
          "Records": [
        #foreach($record in $input.path('$.records'))
        #set($pk = $record.user_id)
        #if("$!pk" == "")#set($pk = "$context.requestId-$foreach.index")#end
            {
              "Data": "$util.base64Encode($input.json("$.records[$foreach.index]"))",
              "PartitionKey": "$util.escapeJavaScript($pk)"
            }#if($foreach.hasNext),#end
        #end
          ]
        }
      VTL
    }
  }

  # No routes (and so no methods, integrations or responses) when the API is
  # off.
  api_routes = { for route, definition in local.api_route_definitions : route => definition if var.enable_api }

  # Kinesis answers 200 with its result (PutRecords: FailedRecordCount and a
  # result per record, which the caller retries), or an error whose body
  # names it (__type, message).
  api_responses = {
    "200" = { pattern = null, template = "$input.json('$')" }
    "400" = { pattern = "4\\d{2}", template = "{\"error\": $input.json('$.__type'), \"message\": $input.json('$.message')}" }
    "500" = { pattern = "5\\d{2}", template = "{\"error\": $input.json('$.__type'), \"message\": $input.json('$.message')}" }
  }

  api_route_responses = {
    for pair in setproduct(keys(local.api_routes), keys(local.api_responses)) :
    "${pair[0]}/${pair[1]}" => { route = pair[0], status = pair[1] }
  }
}

# --- The API -------------------------------------------------------------------

resource "aws_api_gateway_rest_api" "ingest" {
  count       = var.enable_api ? 1 : 0
  name        = "${var.name}-ingest"
  description = "Weir: clickstream events into the Kinesis stream ${aws_kinesis_stream.events.name}"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  # A replaced API is made before the old one goes, so the stage never
  # points at nothing.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_request_validator" "body" {
  count                       = var.enable_api ? 1 : 0
  name                        = "body"
  rest_api_id                 = aws_api_gateway_rest_api.ingest[0].id
  validate_request_body       = true
  validate_request_parameters = true
}

resource "aws_api_gateway_resource" "route" {
  for_each    = local.api_routes
  rest_api_id = aws_api_gateway_rest_api.ingest[0].id
  parent_id   = aws_api_gateway_rest_api.ingest[0].root_resource_id
  path_part   = each.key
}

resource "aws_api_gateway_model" "route" {
  for_each     = local.api_routes
  rest_api_id  = aws_api_gateway_rest_api.ingest[0].id
  name         = title(each.key)
  description  = each.value.description
  content_type = "application/json"
  schema       = each.value.schema
}

resource "aws_api_gateway_method" "route" {
  for_each             = local.api_routes
  rest_api_id          = aws_api_gateway_rest_api.ingest[0].id
  resource_id          = aws_api_gateway_resource.route[each.key].id
  http_method          = "POST"
  authorization        = "AWS_IAM"
  request_validator_id = aws_api_gateway_request_validator.body[0].id
  request_models = {
    "application/json" = aws_api_gateway_model.route[each.key].name
  }
}

resource "aws_api_gateway_integration" "route" {
  for_each                = local.api_routes
  rest_api_id             = aws_api_gateway_rest_api.ingest[0].id
  resource_id             = aws_api_gateway_resource.route[each.key].id
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS"
  integration_http_method = "POST"
  uri                     = "arn:${local.partition}:apigateway:${local.region}:kinesis:action/${each.value.action}"
  credentials             = aws_iam_role.api_kinesis[0].arn
  passthrough_behavior    = "NEVER"

  request_parameters = {
    "integration.request.header.Content-Type" = "'application/x-amz-json-1.1'"
  }

  request_templates = {
    "application/json" = each.value.request_template
  }
}

resource "aws_api_gateway_method_response" "route" {
  for_each    = local.api_route_responses
  rest_api_id = aws_api_gateway_rest_api.ingest[0].id
  resource_id = aws_api_gateway_resource.route[each.value.route].id
  http_method = aws_api_gateway_method.route[each.value.route].http_method
  status_code = each.value.status

  response_models = {
    "application/json" = "Empty"
  }
}

resource "aws_api_gateway_integration_response" "route" {
  for_each          = local.api_route_responses
  rest_api_id       = aws_api_gateway_rest_api.ingest[0].id
  resource_id       = aws_api_gateway_resource.route[each.value.route].id
  http_method       = aws_api_gateway_method.route[each.value.route].http_method
  status_code       = aws_api_gateway_method_response.route[each.key].status_code
  selection_pattern = local.api_responses[each.value.status].pattern

  response_templates = {
    "application/json" = local.api_responses[each.value.status].template
  }

  depends_on = [aws_api_gateway_integration.route]
}

resource "aws_api_gateway_deployment" "ingest" {
  count       = var.enable_api ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.ingest[0].id
  description = "Weir ingestion"

  # A new deployment whenever a route, its validation or its mapping changes.
  triggers = {
    redeployment = sha1(jsonencode([
      local.api_routes,
      local.api_responses,
      aws_api_gateway_request_validator.body[0].id,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration.route,
    aws_api_gateway_integration_response.route,
  ]
}

resource "aws_api_gateway_stage" "ingest" {
  #checkov:skip=CKV_AWS_120:Every method is a POST that writes to the stream; a cached answer would drop events.
  #checkov:skip=CKV2_AWS_29:Callers must sign with IAM credentials of this account, and the stage throttles them (api_throttle_*); attach a WAF web ACL (aws_wafv2_web_acl_association) if the API is ever exposed to unsigned traffic.
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to an HTTP backend; the backend here is Kinesis, called with SigV4 through the integration role.
  count                = var.enable_api ? 1 : 0
  rest_api_id          = aws_api_gateway_rest_api.ingest[0].id
  deployment_id        = aws_api_gateway_deployment.ingest[0].id
  stage_name           = var.api_stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access[0].arn
    format = jsonencode({
      requestId         = "$context.requestId"
      requestTime       = "$context.requestTime"
      caller            = "$context.identity.caller"
      userArn           = "$context.identity.userArn"
      sourceIp          = "$context.identity.sourceIp"
      httpMethod        = "$context.httpMethod"
      resourcePath      = "$context.resourcePath"
      status            = "$context.status"
      responseLength    = "$context.responseLength"
      integrationStatus = "$context.integration.status"
      integrationError  = "$context.integration.error"
      validationError   = "$context.error.validationErrorString"
    })
  }

  depends_on = [aws_api_gateway_account.this]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Every method is a POST that writes to the stream; a cached answer would drop events, so caching stays off.
  count       = var.enable_api ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.ingest[0].id
  stage_name  = aws_api_gateway_stage.ingest[0].stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false
    caching_enabled        = false
    throttling_rate_limit  = var.api_throttle_rate_limit
    throttling_burst_limit = var.api_throttle_burst_limit
  }
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_338:Access logs of the ingestion API, kept var.log_retention_days (30 by default) to bound cost; CloudTrail holds the audit trail. Raise it to 365 where policy asks.
  count             = var.enable_api ? 1 : 0
  name              = "/aws/apigateway/${var.name}-ingest/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.weir.arn
}

# --- The integration's role: put records into this stream, nothing else ----------

data "aws_iam_policy_document" "api_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "api_kinesis" {
  count              = var.enable_api ? 1 : 0
  name               = "${var.name}-ingest-kinesis"
  description        = "Weir ingestion API: put records into ${aws_kinesis_stream.events.name}"
  assume_role_policy = data.aws_iam_policy_document.api_assume.json
}

data "aws_iam_policy_document" "api_kinesis" {
  statement {
    sid       = "PutIntoOwnStream"
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords"]
    resources = [aws_kinesis_stream.events.arn]
  }

  # Writing to a KMS-encrypted stream needs a data key from the Weir key.
  statement {
    sid       = "EncryptThroughKinesis"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.weir.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["kinesis.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "api_kinesis" {
  count  = var.enable_api ? 1 : 0
  name   = "put-records"
  role   = aws_iam_role.api_kinesis[0].id
  policy = data.aws_iam_policy_document.api_kinesis.json
}

# --- The region's API Gateway logging role ------------------------------------------
# Access and execution logs need the account-level (per region) setting of a
# role API Gateway writes CloudWatch logs with. It is shared by every REST API
# in the region: api_manage_cloudwatch_role = false leaves an existing one.

resource "aws_iam_role" "api_cloudwatch" {
  count              = var.enable_api && var.api_manage_cloudwatch_role ? 1 : 0
  name               = "${var.name}-apigateway-cloudwatch"
  description        = "API Gateway (this region): write CloudWatch logs"
  assume_role_policy = data.aws_iam_policy_document.api_assume.json
}

resource "aws_iam_role_policy_attachment" "api_cloudwatch" {
  count      = var.enable_api && var.api_manage_cloudwatch_role ? 1 : 0
  role       = aws_iam_role.api_cloudwatch[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count               = var.enable_api && var.api_manage_cloudwatch_role ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.api_cloudwatch[0].arn
  depends_on          = [aws_iam_role_policy_attachment.api_cloudwatch]
}
