"""SNS: temporary subscriptions proving alarm notifications arrive."""
