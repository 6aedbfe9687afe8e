"""The back office's forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    FloatField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from core.roles import OrganisationKind, Role

CODE = Regexp(r"^[A-Z0-9][A-Z0-9\-]{2,31}$", message=_l("Capital letters, digits and dashes (3 to 32)."))
REQUIRED = DataRequired(_l("Required."))


class PointForm(FlaskForm):
    code = StringField(_l("Code"), validators=[REQUIRED, CODE])
    tier = SelectField(_l("Tier"), choices=[("branch", _l("Branch")), ("district_point", _l("District point")),
                                             ("commune_point", _l("Commune point"))])
    name = StringField(_l("Name"), validators=[REQUIRED, Length(min=3, max=200)])
    address = StringField(_l("Address"), validators=[REQUIRED, Length(min=3, max=400)])
    lat = FloatField(_l("Latitude"), validators=[REQUIRED, NumberRange(-90, 90)])
    lon = FloatField(_l("Longitude"), validators=[REQUIRED, NumberRange(-180, 180)])


class ClosePointForm(FlaskForm):
    on = DateField(_l("Closed from"), validators=[REQUIRED])
    reason = StringField(_l("Reason"), validators=[REQUIRED, Length(max=500)])


class ActionForm(FlaskForm):
    """A button that changes one thing (reopen, deactivate, revoke): only its CSRF token."""

    value = HiddenField()


class OrganisationForm(FlaskForm):
    code = StringField(_l("Code"), validators=[REQUIRED, CODE])
    name = StringField(_l("Name"), validators=[REQUIRED, Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[(k.value, k.value) for k in OrganisationKind])


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[REQUIRED, Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                                                  message=_l("Not a valid email address.")),
                                                 Length(max=254)])
    full_name = StringField(_l("Full name"), validators=[REQUIRED, Length(max=200)])
    role = SelectField(_l("Role"), choices=[(r.value, r.value) for r in Role])
    password = PasswordField(_l("Password"), validators=[REQUIRED, Length(min=12, max=200)])
    organisation = SelectField(_l("Organisation (agents)"), validators=[Optional()], choices=[])
    service_point = StringField(_l("Service point code (branch officers)"), validators=[Optional(), Length(max=32)])


class KeyForm(FlaskForm):
    owner = StringField(_l("Organisation code or user email"), validators=[REQUIRED, Length(max=254)])
    name = StringField(_l("Key name"), validators=[REQUIRED, Length(max=100)], default="default")


class ApologyForm(FlaskForm):
    """The apology for a late dossier: why, and the new date (the rules are checked by the use case)."""

    reason = TextAreaField(_l("Reason for the delay"), validators=[Length(max=2000)])
    new_date = DateField(_l("New date for the result"), validators=[Optional()])


class AckAlertForm(FlaskForm):
    """Acknowledging a quality alert: what was done about it."""

    note = TextAreaField(_l("Note"), validators=[REQUIRED, Length(max=1000)])
