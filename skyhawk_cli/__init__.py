"""skyhawk's operator CLI: the `skyhawk` command, a client of the public Management, Device Configuration
and Deployment Workflow HTTP APIs. An operator's tool: nothing here goes into Lambda (chalice packages
chalicelib only), and nothing here imports chalicelib."""

__version__ = "0.1.0"
