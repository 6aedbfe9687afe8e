"""The administrators' back office: service points, users and roles, API keys, each change audited."""
