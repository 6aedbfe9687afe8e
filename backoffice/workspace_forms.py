"""The branch workspace's forms (Flask-WTF, CSRF): each action posts the dossier's version it was shown."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

REQUIRED = DataRequired(_l("Required."))


class _Versioned(FlaskForm):
    version = IntegerField(validators=[DataRequired(), NumberRange(min=1)])


class MoveForm(_Versioned):
    """One move: accept, start processing, resume, reject, hand over, collect, close."""

    to = HiddenField(validators=[REQUIRED])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class SupplementForm(_Versioned):
    documents = SelectMultipleField(_l("Documents to supply"), choices=[], validate_choice=False,
                                    option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    note = TextAreaField(_l("Note to the citizen"), validators=[Optional(), Length(max=1500)])


class ResultForm(_Versioned):
    result_file = FileField(_l("Result document (PDF or image)"))
    on_paper = TextAreaField(_l("Or: the result is on paper (note)"), validators=[Optional(), Length(max=1000)])


class TransferForm(_Versioned):
    point = SelectField(_l("Transfer to"), choices=[], validators=[REQUIRED])
    reason = TextAreaField(_l("Reason for the transfer"), validators=[REQUIRED, Length(max=2000)])


class AssignForm(_Versioned):
    user = SelectField(_l("Assigned officer"), choices=[], validate_choice=False)


class RevealForm(FlaskForm):
    """Show the citizen's identity: only the CSRF token (the opening is audited)."""
