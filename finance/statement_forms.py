"""The statements page's forms (Flask-WTF: CSRF token included). The period and scope are in the URL."""

from __future__ import annotations

from flask_wtf import FlaskForm


class IssueForm(FlaskForm):
    """Issue the statement shown: only the CSRF token; what is issued is the page's period and scope."""
