"""The reconciliation page's form (Flask-WTF: CSRF token included)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import InputRequired


class RunForm(FlaskForm):
    period_from = DateField(_l("From"), validators=[InputRequired()])
    period_to = DateField(_l("To (included)"), validators=[InputRequired()])
