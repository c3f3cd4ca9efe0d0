"""`make bench`: prints skyhawk's measured figures (cold import, hot-path DynamoDB calls and latency)."""
