"""Finance staff's web forms (Flask-WTF: CSRF tokens included)."""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, DecimalField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import TextInput

from core.schemas import MAX_VND

STATEMENT_EXTENSIONS = ["csv", "xml"]
_CURRENCY = re.compile(r"(?i)\s*(?:₫|đ|vnd|vnđ)\s*$")
_GROUPED = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")


def new_idempotency_key() -> str:
    """One per rendering of the refund form: a form posted twice refunds once."""
    return secrets.token_urlsafe(16)


class MoneyField(IntegerField):
    """Whole đồng, typed as people write them: 50000, 50.000, 50,000 or 50 000 ₫."""

    widget = TextInput()  # a number input would refuse the thousands separators

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = _CURRENCY.sub("", valuelist[0] or "")
        text = re.sub(r"[\s\u00a0\u202f]", "", text)
        if _GROUPED.fullmatch(text):
            text = re.sub(r"[.,]", "", text)
        if sum(ch.isdigit() for ch in text) > 30:  # past any amount (and int() refuses 4,300 digits)
            raise ValueError(str(_l("The amount is larger than any fee or payment.")))
        try:
            super().process_formdata([text])
        except ValueError as exc:
            raise ValueError(str(_l("Enter a whole number of đồng, e.g. 50.000."))) from exc
        if self.data is not None and abs(self.data) > MAX_VND:
            self.data = None
            raise ValueError(str(_l("The amount is larger than any fee or payment.")))


class PercentField(DecimalField):
    """A percentage with a decimal comma or point: 10,5 or 10.5."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [(valuelist[0] or "").strip().rstrip("%").strip().replace(",", ".")]
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Enter a percentage, e.g. 10 or 2,5."))) from exc


class StatementForm(FlaskForm):
    file = FileField(_l("Bank statement file (CSV or camt.053 XML)"), validators=[
        FileRequired(_l("Choose the statement file.")),
        FileAllowed(STATEMENT_EXTENSIONS, _l("Only CSV or XML statement files are accepted.")),
    ])


class DossierSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search: nothing changes

    dossier = StringField(_l("Dossier number"), validators=[DataRequired(), Length(max=40)])


class RefundForm(FlaskForm):
    amount = MoneyField(_l("Amount to refund (đồng)"), validators=[
        Optional(), NumberRange(min=1, message=_l("Enter at least 1 đồng, or leave empty to refund everything left."))])
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Give the reason for the refund.")),
        Length(min=3, max=500, message=_l("The reason must be 3 to 500 characters."))])
    idempotency_key = HiddenField(validators=[DataRequired(), Length(min=16, max=32), Regexp(r"^[A-Za-z0-9_-]+$")],
                                  default=new_idempotency_key)


class FeeRuleForm(FlaskForm):
    effective_from = DateField(_l("Takes effect on"), validators=[InputRequired(_l("Enter the date it takes effect."))])
    flat_vnd = MoneyField(_l("Flat fee (đồng)"), default=0, validators=[Optional(), NumberRange(min=0)])
    percent = PercentField(_l("Percentage of the state fee"), places=3, default=0,
                           validators=[Optional(), NumberRange(min=0, max=100)])
    minimum_vnd = MoneyField(_l("Minimum (đồng)"), default=0, validators=[Optional(), NumberRange(min=0)])
    maximum_vnd = MoneyField(_l("Maximum (đồng, optional)"), validators=[Optional(), NumberRange(min=0)])

    def validate_maximum_vnd(self, field):
        if field.data is not None and self.minimum_vnd.data is not None and field.data < self.minimum_vnd.data:
            raise ValidationError(str(_l("The maximum may not be below the minimum.")))
