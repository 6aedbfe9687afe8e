"""The agents' REST API (and, later, the tablet UI)."""
