"""Finance staff's forms for the exception queue and the treasury report (Flask-WTF: CSRF tokens included).

The reason is checked by the use case (finance.queue), which refuses an empty one in Vietnamese and
English: the form only carries it, so the API and the pages say the same thing.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from payments.forms import MoneyField
from payments.ledger import Account

ACCOUNT_CHOICES = [SelectChoice(a.value, a.value) for a in Account]


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class AssignForm(ReasonForm):
    user_id = SelectField(_l("Assign to"), choices=[], validate_choice=False)


class LinkForm(ReasonForm):
    dossier_number = StringField(_l("Dossier number"), validators=[Optional(), Length(max=40)])


class AdjustForm(ReasonForm):
    debit_account = SelectField(_l("Debit account"), choices=ACCOUNT_CHOICES)
    debit_party = StringField(_l("Debit party (agent organisation code, optional)"),
                              validators=[Optional(), Length(max=40)])
    credit_account = SelectField(_l("Credit account"), choices=ACCOUNT_CHOICES)
    credit_party = StringField(_l("Credit party (agent organisation code, optional)"),
                               validators=[Optional(), Length(max=40)])
    amount = MoneyField(_l("Amount (đồng)"), validators=[Optional()])

    def entries(self) -> list[dict]:
        amount = self.amount.data or 0
        return [{"account": self.debit_account.data, "party": self.debit_party.data, "amount_vnd": amount},
                {"account": self.credit_account.data, "party": self.credit_party.data, "amount_vnd": -amount}]


class TransferForm(FlaskForm):
    amount = MoneyField(_l("Amount transferred (đồng)"), validators=[
        InputRequired(_l("Enter the amount.")), NumberRange(min=1, message=_l("Enter at least 1 đồng."))])
    transferred_on = DateField(_l("Day of the transfer"),
                               validators=[InputRequired(_l("Enter the day of the transfer."))])
    reference = StringField(_l("State Treasury receipt or bank reference"), validators=[
        InputRequired(_l("Enter the State Treasury's receipt number or the bank's reference.")), Length(max=100)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
