"""The platform kernel: configuration, extensions, errors, auth and roles, audit, outbox and jobs, i18n.

The application factory lives in ``app`` (the composition root); nothing here imports it.
"""
