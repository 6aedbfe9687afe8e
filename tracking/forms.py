"""The tracking page's two forms (Flask-WTF: CSRF tokens included)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from tracking.service import MAX_COMMENT


class FeedbackForm(FlaskForm):
    rating = RadioField(_l("Your rating"), choices=[SelectChoice(i, str(i)) for i in range(1, 6)], coerce=int,
                        validators=[InputRequired(_l("Choose from 1 to 5 stars."))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[
        Optional(), Length(max=MAX_COMMENT, message=_l("A comment may have at most 1000 characters."))])


class RescheduleForm(FlaskForm):
    last4 = StringField(_l("Last 4 digits of your phone number"), validators=[
        InputRequired(_l("Enter the last 4 digits of your phone number.")),
        Regexp(r"^\d{4}$", message=_l("Enter exactly 4 digits."))])
    slot = RadioField(_l("New delivery time"), choices=[],
                      validators=[InputRequired(_l("Choose a delivery time."))])
