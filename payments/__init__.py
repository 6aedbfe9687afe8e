"""Fee payment: the Stripe-compatible gateway client, fees, ledger, webhooks, receipts (the sandbox gateway
is a dev plugin: sandboxes/gateway)."""
