"""Courier return of results: shipments, adapters, pickup scheduling, attempts, webhooks."""
