"""Flask-WTF forms of the extension's pages.

The forms only carry what operators typed; the number rules live in
:mod:`flask_xsms.numbers`, so the page, the JSON API and the CLI say the same words.
"""
from __future__ import annotations

import collections.abc as c
import dataclasses
import typing as t

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import SUBMIT_METHODS
from wtforms import FieldList
from wtforms import Form
from wtforms import FormField
from wtforms import SelectField
from wtforms import StringField

from .errors import RowError
from ._values import Application
from ._values import Pair

#: The row index in the names of a new row's fields, replaced by the page's script.
ROW_PLACEHOLDER = "__index__"

#: First option of every Application dropdown.
CHOOSE_APPLICATION = "Choose an application"


#: Said when the Test webhook form's CSRF token is missing or expired.
TEST_EXPIRED_MESSAGE = "This form has expired. Nothing was tested: reload the page and try again."


class BrowserForm(FlaskForm):
    """A Flask-WTF form that reads form bodies only.

    Flask-WTF also takes a JSON body as the form's data, and fails on JSON that is not an
    object. A browser's form never sends JSON: here such a body is an empty form (and so
    fails the CSRF check).
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: t.Any, formdata: t.Any) -> t.Any:
            # Flask-WTF's "read the request" default is a marker without getlist().
            automatic = formdata is not None and not hasattr(formdata, "getlist")
            if automatic and request.is_json:
                return request.form if request.method in SUBMIT_METHODS else None
            return super().wrap_formdata(form, formdata)


class PairForm(Form):
    """One row of the settings page: a phone number and the application it is bound to.

    A plain :class:`wtforms.Form`: the enclosing :class:`SettingsForm` holds the CSRF token.
    """

    phone_number = StringField("Phone Number")
    # The rules service checks the choice, with the product's own words.
    application = SelectField("Application", choices=[], validate_choice=False)


class SettingsForm(BrowserForm):
    """The Twilio SMS settings form of one IA Domain: all its rows, saved at once."""

    numbers = FieldList(FormField(PairForm))

    def set_applications(self, applications: c.Sequence[Application]) -> None:
        """Offer ``applications`` (the bindable ones) in every row's dropdown.

        A row whose saved application is no longer offered keeps it as an extra option,
        so the operator sees what is bound and the rules service can say what is wrong.
        """
        choices = _choices(applications)
        for entry in self.numbers:
            entry.form.application.choices = _row_choices(choices, entry.form.application.data)

    def new_row(self, applications: c.Sequence[Application]) -> PairForm:
        """An empty row whose field names hold :data:`ROW_PLACEHOLDER` as their index."""
        row = PairForm(prefix=f"{self.numbers.name}-{ROW_PLACEHOLDER}-")
        row.application.choices = _choices(applications)
        return row

    def pairs(self) -> list[Pair]:
        """The rows as typed, in page order."""
        return [
            Pair(entry.form.phone_number.data or "", entry.form.application.data or "")
            for entry in self.numbers
        ]

    def add_row_errors(self, errors: c.Iterable[RowError]) -> None:
        """Show each :class:`~flask_xsms.RowError` on the field of the row it concerns."""
        entries = list(self.numbers)
        for error in errors:
            if not 0 <= error.row < len(entries):
                self.form_errors.append(error.message)
                continue
            name = error.field if error.field == "application" else "phone_number"
            field = entries[error.row].form[name]
            field.errors = [*field.errors, error.message]


@dataclasses.dataclass(frozen=True)
class RowField:
    """What the row macro reads of a field, without a WTForms field behind it."""

    id: str
    name: str
    data: str
    choices: tuple[tuple[str, str], ...] = ()
    errors: tuple[str, ...] = ()

    def iter_choices(self) -> t.Iterator[tuple[str, str, bool, dict[str, t.Any]]]:
        """``(value, label, selected, render_kw)``, as WTForms' ``SelectField.iter_choices``."""
        for value, label in self.choices:
            yield value, label, value == self.data, {}


@dataclasses.dataclass(frozen=True)
class SavedRow:
    """A saved pair as the settings page shows it: a thousand of them render quickly."""

    phone_number: RowField
    application: RowField


def saved_rows(
    pairs: c.Sequence[tuple[str, str]], applications: c.Sequence[Application]
) -> list[SavedRow]:
    """The rows of saved ``(number, application id)`` pairs, named as :class:`SettingsForm`
    names its fields, with the same choices as :meth:`SettingsForm.set_applications`."""
    choices = _choices(applications)
    rows = []
    for index, (number, application_id) in enumerate(pairs):
        number_name = f"numbers-{index}-phone_number"
        application_name = f"numbers-{index}-application"
        rows.append(
            SavedRow(
                RowField(number_name, number_name, number),
                RowField(
                    application_name,
                    application_name,
                    application_id,
                    tuple(_row_choices(choices, application_id)),
                ),
            )
        )
    return rows


def _choices(applications: c.Sequence[Application]) -> list[tuple[str, str]]:
    return [("", CHOOSE_APPLICATION)] + [(a.id, a.name) for a in applications]


def _row_choices(choices: list[tuple[str, str]], current: str | None) -> list[tuple[str, str]]:
    """``choices``, plus a row's saved application when it is no longer offered."""
    if current and all(value != current for value, _ in choices):
        return [*choices, (current, f"Unavailable application ({current})")]
    return choices


class TwilioConfigureForm(BrowserForm):
    """A request to configure saved numbers in Twilio: its CSRF token.

    The numbers come as repeated ``phone_number`` fields; none means all of them.
    """


class WebhookTestForm(BrowserForm):
    """A request to test the domain's Request URL with a signed request: its CSRF token."""
