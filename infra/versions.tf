terraform {
  # startswith/endswith (1.3) and the validation blocks as written here.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x or 6.x: nothing here uses what 6.0 removed or renamed (the
      # aws_region data source's `name`, `stage_name` on API deployments).
      version = ">= 5.0, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ Project = "weir", Deployment = var.name }, var.tags)
  }
}
