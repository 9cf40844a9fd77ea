"""CloudWatch: alarm states with transition times taken from the target."""
