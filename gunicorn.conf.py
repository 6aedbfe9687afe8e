"""Gunicorn's settings, read from the working directory (``gunicorn wsgi:app`` finds this file by itself).

Command-line flags (``-w``, ``-b``, ``--access-logfile -``) still apply on top of these.
"""

# Access and error logs without tracking/receipt tokens, sensitive query strings, CCCD or phone numbers.
logger_class = "core.security.RedactingGunicornLogger"
