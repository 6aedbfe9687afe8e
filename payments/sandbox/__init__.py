"""A Stripe-compatible sandbox gateway served on loopback (a subset of Stripe's HTTP API)."""
