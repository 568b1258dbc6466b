"""The extension's pages. Every view checks the host's permission callback first."""
from __future__ import annotations

from flask import abort
from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug.wrappers import Response

from . import _channels as channels
from . import _diagnostics as diagnostics
from . import _message_log as message_log
from . import numbers
from . import _optouts as optouts
from . import whatsapp
from .errors import BindingError
from .errors import NumberError
from ._state import get_state
from ._forms import saved_rows
from ._forms import SavedRow
from ._forms import SettingsForm
from ._forms import TEST_EXPIRED_MESSAGE
from ._forms import WebhookTestForm
from .integrations import create_integration
from ._inbound import UNROUTED
from .integrations import webhook_urls
from .models import as_utc
from .models import utcnow
from ._values import Application
from ._values import Domain
from ._web import page_number

#: Flashed after a successful save.
SAVED_MESSAGE = "Your Twilio SMS settings were saved."
#: Shown above the form when a save was refused.
NOT_SAVED_MESSAGE = "Nothing was saved. Correct the rows marked below, then click Save again."
#: Shown when the form's CSRF token is missing or expired.
EXPIRED_MESSAGE = "This form has expired. Nothing was saved: reload the page and try again."
#: The 404 of a messages page past the last page.
NO_SUCH_PAGE = "There is no such page of messages: the last one is page {last}."
#: The 404 of a messages page that is not a whole number from 1.
NOT_A_PAGE = "There is no such page of messages: pages are numbered 1, 2, 3 and so on."

# Where the Test webhook button's result waits for the page that shows it.
_WEBHOOK_TEST_RESULT = "xsms_webhook_test_result"



def create_blueprint() -> Blueprint:
    """Build the ``xsms`` blueprint for one app."""
    bp = Blueprint(
        "xsms",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    bp.add_url_rule("/domains/<domain_id>/integrations", view_func=integrations)
    bp.add_url_rule(
        "/domains/<domain_id>/twilio-sms", view_func=settings, methods=["GET", "POST"]
    )
    bp.add_url_rule("/domains/<domain_id>/twilio-sms/messages", view_func=messages)
    bp.add_url_rule(
        "/domains/<domain_id>/twilio-sms/test-webhook", view_func=test_webhook, methods=["POST"]
    )
    return bp


def integrations(domain_id: str) -> str:
    """The Integrations panel of a domain."""
    domain = get_state().manageable_domain(domain_id)
    return render_template(
        "xsms/integrations.html", domain=domain, number_count=len(numbers.bindings_of(domain))
    )


def settings(domain_id: str) -> str | Response | tuple[str, int]:
    """The Twilio SMS settings page of a domain: show (GET) and save (POST) its pairs."""
    domain = get_state().manageable_domain(domain_id)
    applications = numbers.bindable_applications(domain)

    if request.method == "GET":
        saved = [(b.phone_number, b.application_id) for b in numbers.bindings_of(domain)]
        rows = saved_rows(saved, applications)
        return _render_settings(domain, SettingsForm(), applications, rows=rows)

    form = SettingsForm()
    if not form.validate_on_submit():
        # Only the CSRF token can fail here: the rows are checked by the rules service.
        form.form_errors.append(EXPIRED_MESSAGE)
        return _render_settings(domain, form, applications, unsaved=True), 400
    try:
        numbers.replace_bindings(domain, form.pairs())
    except BindingError as e:
        form.add_row_errors(e.errors)
        form.form_errors.insert(0, NOT_SAVED_MESSAGE)
        return _render_settings(domain, form, applications, unsaved=True)
    flash(SAVED_MESSAGE, "success")
    return redirect(url_for("xsms.settings", domain_id=domain.id))


def _render_settings(
    domain: Domain,
    form: SettingsForm,
    applications: list[Application],
    *,
    unsaved: bool = False,
    rows: list[SavedRow] | None = None,
) -> str:
    """The settings page: ``rows`` of saved pairs, or else the form's rows as posted."""
    if rows is None:
        form.set_applications(applications)
        rows = [entry.form for entry in form.numbers]
        next_index = form.numbers.last_index + 1
    else:
        next_index = len(rows)
    integration = create_integration(domain)
    rejections = diagnostics.recent_rejections(integration.id)
    return render_template(
        "xsms/settings.html",
        domain=domain,
        form=form,
        rows=rows,
        next_index=next_index,
        new_row=form.new_row(applications),
        applications=applications,
        urls=webhook_urls(integration),
        unsaved=unsaved,
        rejections=rejections,
        diagnosis=diagnostics.explain(rejections[0]) if rejections else None,
        webhook_test_form=WebhookTestForm(),
        webhook_test_result=session.pop(_WEBHOOK_TEST_RESULT, None),
        as_utc=as_utc,
    )


def test_webhook(domain_id: str) -> Response:
    """The Test webhook button without JavaScript: post a signed request to the domain's
    Request URL, then show the result beside the button (kept in the session until the
    page shows it, as a flash message would be)."""
    domain = get_state().manageable_domain(domain_id)
    if not WebhookTestForm().validate_on_submit():
        outcome = {"ok": False, "message": TEST_EXPIRED_MESSAGE}
    else:
        result = diagnostics.send_test_webhook(create_integration(domain))
        outcome = {"ok": result.ok, "message": result.message}
    session[_WEBHOOK_TEST_RESULT] = outcome
    return redirect(url_for("xsms.settings", domain_id=domain.id, _anchor="xsms-webhook-check"))


def messages(domain_id: str) -> str:
    """Recent messages of a domain, newest first, filterable by number.

    Pages are numbered like Flask-SQLAlchemy's ``paginate`` numbers them: a page that is
    not a whole number from 1, or past the last page, is a 404. A filter that is not a
    phone number shows no messages and says why.
    """
    domain = get_state().manageable_domain(domain_id)
    number = request.args.get("number", "").strip()
    page = page_number(request.args.get("page"), NOT_A_PAGE)
    pagination, number_filter, number_error = None, "", None
    try:
        number_filter = message_log.number_filter(number)
    except NumberError as e:
        number_error = str(e)
    else:
        pagination = message_log.recent_messages(domain, number=number_filter, page=page)
        if page > 1 and not pagination.items:
            abort(404, NO_SUCH_PAGE.format(last=max(pagination.pages, 1)))
    return render_template(
        "xsms/messages.html",
        domain=domain,
        pagination=pagination,
        number=number,
        number_filter=number_filter,
        number_error=number_error,
        application_names=message_log.application_names(domain),
        opt_outs=optouts.opt_outs_of(
            domain.account_id, [b.phone_number for b in numbers.bindings_of(domain)]
        ),
        unrouted=UNROUTED,
        as_utc=as_utc,
        windows=message_log.whatsapp_windows(pagination.items if pagination else ()),
        now=utcnow(),
        error_help=whatsapp.explain,
        is_whatsapp=channels.is_whatsapp,
    )
