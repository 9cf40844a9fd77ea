"""CodeDeploy: start and stop Lambda deployments, and wait on their status."""
