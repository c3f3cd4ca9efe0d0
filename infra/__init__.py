"""Operator tooling that is not part of the Lambda package: the local launcher and the AWS bootstrap."""
