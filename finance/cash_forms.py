"""The cash handover's web forms (Flask-WTF: CSRF tokens included)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from finance.models import HandoverMethod
from payments.forms import MoneyField


class HandoverForm(FlaskForm):
    # "<organisation code>/<point code>", or "<organisation code>/" for the organisation's own cash.
    unit = SelectField(_l("Agent point"), validators=[DataRequired(_l("Choose the agent point."))],
                       validate_choice=False)
    amount = MoneyField(_l("Amount handed over (đồng)"), validators=[InputRequired(_l("Enter the amount."))])
    handed_over_on = DateField(_l("Handed over on"), validators=[InputRequired(_l("Enter the date of the handover."))])
    method = RadioField(_l("How"), choices=[
        SelectChoice(HandoverMethod.BANK_DEPOSIT.value, _l("Deposit into the centre's bank account")),
        SelectChoice(HandoverMethod.COUNTER.value, _l("At the centre's counter"))],
                        default=HandoverMethod.BANK_DEPOSIT.value,
                        validators=[DataRequired(_l("Choose how the cash was handed over."))])
    reference = StringField(_l("Bank reference or counter receipt number"), validators=[
        DataRequired(_l("Enter the bank's reference or the counter receipt number.")), Length(max=100)])
    received_by = StringField(_l("Received by"), validators=[
        DataRequired(_l("Enter who received the cash.")), Length(max=300)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ReversalForm(FlaskForm):
    reason = StringField(_l("Reason for the reversal"), validators=[
        DataRequired(_l("Give the reason for the reversal.")),
        Length(min=3, max=2000, message=_l("The reason must be 3 to 2000 characters."))])
