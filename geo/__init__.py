"""Service points, the service-radius rule, routing."""
