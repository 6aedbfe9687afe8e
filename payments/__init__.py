"""Fee payment: the Stripe-compatible gateway client, the sandbox gateway, fees, ledger, receipts."""
