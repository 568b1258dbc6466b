"""Why Twilio's webhook requests are refused, and how to check that they no longer are.

Every 403 of a webhook is recorded (:func:`record_rejection`) with the URL the signature
was checked against and, when one of the URLs Twilio most likely signed does match the
signature, that URL: the scheme, host, port or trailing slash that differ are then the
cause. :func:`explain` says it in plain words with the fix; :func:`send_test_webhook` posts a
request signed exactly as Twilio would to the domain's public Request URL;
:func:`doctor` runs every check of the configuration at once.

The signature and the Auth Token are used in memory only and never stored.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
import typing as t
import urllib.parse

import requests
import sqlalchemy as sa
from flask import current_app

from . import _twilio_api as twilio_api
from ._state import get_state
from .integrations import webhook_urls
from .models import Integration
from .models import WebhookRejection
from .models import as_utc
from .models import utcnow
from ._twiml import has_messages

logger = logging.getLogger("flask_xsms")

#: Refused: the signature is not Twilio's for the URL checked.
BAD_SIGNATURE = "bad_signature"
#: Refused: the request has no ``X-Twilio-Signature`` header.
MISSING_SIGNATURE = "missing_signature"
#: Refused: signed with the account's token, but ``AccountSid`` is another account's.
WRONG_ACCOUNT = "wrong_account"
#: Refused: no Twilio credentials for the domain's account.
NO_CREDENTIALS = "no_credentials"

#: The request headers kept with a rejection: where the request says it was sent.
FORWARDING_HEADERS = (
    "Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "X-Forwarded-For",
    "Forwarded",
)

#: The form parameter that marks a request of :func:`send_test_webhook`; the Request URL
#: answers it with an empty TwiML response once the signature checks pass.
TEST_PARAMETER = "XsmsTestWebhook"



@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """What went wrong with a refused webhook (``summary``) and what to do (``fix``)."""

    summary: str
    fix: str


@dataclasses.dataclass(frozen=True)
class WebhookTestResult:
    """The outcome of :func:`send_test_webhook`: ``ok`` when the request validated."""

    ok: bool
    url: str
    message: str
    diagnosis: Diagnosis | None = None


@dataclasses.dataclass(frozen=True)
class Check:
    """One line of :func:`doctor`: its name, whether it passed, and what it found."""

    name: str
    ok: bool
    text: str


# -- recording -------------------------------------------------------------------------


def record_rejection(
    integration_id: int,
    reason: str,
    *,
    endpoint: str,
    validated_url: str,
    headers: t.Mapping[str, str],
    params: t.Mapping[str, t.Any] | None = None,
    signature: str | None = None,
    auth_token: str | None = None,
    path: str = "",
) -> None:
    """Record a refused webhook request. Never raises: a failure is only logged.

    With the ``signature`` and the ``auth_token`` (used here, never stored), the likely
    URLs Twilio signed (see :func:`candidate_urls`) are tried, and the one that matches
    is kept as ``matched_url``. Written on a connection of its own, so the request's
    session is left as it was; older rows beyond ``XSMS_WEBHOOK_REJECTIONS_KEPT`` per
    integration, or older than ``XSMS_WEBHOOK_REJECTIONS_MAX_AGE``, are deleted.
    """
    try:
        kept = {name: headers[name] for name in FORWARDING_HEADERS if headers.get(name)}
        match = None
        if reason == BAD_SIGNATURE and signature and auth_token and params is not None:
            match = _matching_candidate(
                auth_token, signature, params, candidate_urls(validated_url, kept, path)
            )
        row = {
            "integration_id": integration_id,
            "created_at": utcnow(),
            "endpoint": endpoint[:16],
            "reason": reason,
            "validated_url": validated_url,
            "matched_url": match[1] if match else None,
            "headers": kept,
            "details": {"base_url": match[0]} if match else {},
        }
        with get_state().db.engine.begin() as connection:
            connection.execute(sa.insert(WebhookRejection), row)
            _prune(connection, integration_id)
    except Exception:
        logger.exception("Could not record a refused webhook request to %s.", validated_url)


def candidate_urls(
    validated_url: str, headers: t.Mapping[str, str], path: str = ""
) -> list[tuple[str, str]]:
    """The URLs Twilio most likely signed, as ``(base URL, full URL)`` pairs.

    From the configured ``XSMS_PUBLIC_BASE_URL``, the URL the app checked, and the host,
    scheme, port and prefix of the forwarding headers; each with ``http`` and ``https``
    and with and without a trailing slash. ``path`` is the request's path within the app.
    """
    checked = urllib.parse.urlsplit(validated_url)
    path = path or checked.path
    forwarded = _forwarded(headers)
    hosts = [checked.netloc, headers.get("Host"), forwarded.get("host")]
    if forwarded.get("host") and forwarded.get("port") and ":" not in forwarded["host"]:
        hosts.append(f"{forwarded['host']}:{forwarded['port']}")
    schemes = [checked.scheme, forwarded.get("proto"), "https", "http"]
    # the script root (or public path) in front of the app's path, and a proxy's prefix
    roots = [checked.path[: -len(path)] if checked.path.endswith(path) else ""]
    roots.append(forwarded.get("prefix"))
    public = current_app.config["XSMS_PUBLIC_BASE_URL"]
    bases = [public.rstrip("/")] if public else []
    for scheme in filter(None, schemes):
        bases += [f"{scheme}://{h}{r}" for h in hosts if h for r in roots if r is not None]
    candidates: dict[str, str] = {}
    for base in bases:
        for tail in (path, path.rstrip("/") + "/"):
            url = twilio_api.validation_url(
                public_base_url=base,
                scheme="",
                host="",
                script_root="",
                path=tail,
                query_string=checked.query,
            )
            candidates.setdefault(url, base)
    return [(base, url) for url, base in candidates.items()]


def recent_rejections(integration_id: int, limit: int = 10) -> list[WebhookRejection]:
    """The integration's refused webhook requests, newest first."""
    return list(
        get_state().session.scalars(
            sa.select(WebhookRejection)
            .where(WebhookRejection.integration_id == integration_id)
            .order_by(WebhookRejection.created_at.desc(), WebhookRejection.id.desc())
            .limit(limit)
        )
    )


# -- explaining ------------------------------------------------------------------------


def explain(rejection: WebhookRejection) -> Diagnosis:
    """The cause of a refused webhook request and its fix, in plain words."""
    if rejection.reason == MISSING_SIGNATURE:
        return Diagnosis(
            "The request carried no X-Twilio-Signature header.",
            "It did not come from Twilio, or a proxy in front of the app removes the"
            " X-Twilio-Signature header: let the proxy pass it through.",
        )
    if rejection.reason == NO_CREDENTIALS:
        return Diagnosis(
            "The app has no Twilio credentials for this IA Domain's account, so it cannot"
            " check any signature.",
            "Set XSMS_TWILIO_ACCOUNT_SID and XSMS_TWILIO_AUTH_TOKEN, or register a"
            " credentials loader that knows this account.",
        )
    if rejection.reason == WRONG_ACCOUNT:
        return Diagnosis(
            "The signature is valid, but the request's AccountSid is not the configured"
            " account's.",
            "Check XSMS_TWILIO_ACCOUNT_SID (or the credentials loader): it must be the SID of"
            " the Twilio account that owns the numbers; a subaccount has its own SID.",
        )
    matched = rejection.matched_url
    if not matched:
        return Diagnosis(
            f"No URL this app answers at matches Twilio's signature (checked against"
            f" {rejection.validated_url}).",
            "Check that the Auth Token (XSMS_TWILIO_AUTH_TOKEN or the credentials loader) is"
            " the account's current one, and that the number's URL in the Twilio console is"
            " the Request URL shown on this page, exactly.",
        )
    signed, checked = urllib.parse.urlsplit(matched), urllib.parse.urlsplit(rejection.validated_url)
    base = (rejection.details or {}).get("base_url") or f"{signed.scheme}://{signed.netloc}"
    setting = f"Set XSMS_PUBLIC_BASE_URL={base}"
    summary = f"Twilio signed {matched}, but the app checked {rejection.validated_url}."
    configured = current_app.config["XSMS_PUBLIC_BASE_URL"]
    if configured and configured.rstrip("/") != base:
        return Diagnosis(summary, f"{setting} (it is {configured} now).")
    if signed.path.rstrip("/") == checked.path.rstrip("/") and signed.path != checked.path:
        return Diagnosis(
            summary,
            "The URL in the Twilio console differs from this domain's Request URL by a"
            " trailing slash: paste the Request URL exactly as shown on this page.",
        )
    if signed.scheme != checked.scheme and signed.netloc == checked.netloc:
        return Diagnosis(
            summary + f" A proxy in front of the app ends {signed.scheme.upper()}, and the app"
            f" sees {checked.scheme}.",
            f"{setting}, or wrap the app in Werkzeug's ProxyFix (x_proto=1) so that it trusts"
            " the proxy's X-Forwarded-Proto header.",
        )
    if signed.netloc != checked.netloc:
        return Diagnosis(
            summary + f" The app sees the host {checked.netloc}, Twilio used {signed.netloc}.",
            f"{setting}, or wrap the app in Werkzeug's ProxyFix (x_proto=1, x_host=1) so that"
            " it trusts the proxy's X-Forwarded-Host header.",
        )
    return Diagnosis(summary, f"{setting}.")


# -- testing ---------------------------------------------------------------------------


def send_test_webhook(integration: Integration, *, timeout: float = 5.0) -> WebhookTestResult:
    """Post a request signed exactly as Twilio would to the domain's public Request URL.

    It carries :data:`TEST_PARAMETER`, so the Request URL stores nothing and calls no
    chatbot once the signature checks pass. The app must be able to reach its own public
    URL, and serve a second request while this one waits (several threads or workers).
    """
    url = webhook_urls(integration).request_url
    credentials = get_state().credentials(integration.account_id)
    if credentials is None:
        return WebhookTestResult(
            False,
            url,
            f"Not tested: there are no Twilio credentials for account {integration.account_id}.",
        )
    params = {
        TEST_PARAMETER: secrets.token_hex(8),
        "AccountSid": credentials.account_sid,
        "MessageSid": "SM" + secrets.token_hex(16),
        "From": "+15005550006",
        "To": "+15005550006",
        "Body": "flask-xsms test webhook",
    }
    signature = twilio_api.sign(credentials.auth_token, url, params)
    started = utcnow()
    try:
        response = requests.post(
            url,
            data=params,
            headers={
                twilio_api.SIGNATURE_HEADER: signature,
                "User-Agent": "flask-xsms test webhook",
            },
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as e:
        return WebhookTestResult(False, url, f"Could not reach {url}: {type(e).__name__}: {e}")
    if response.status_code == 200 and not has_messages(response.text):
        return WebhookTestResult(True, url, f"The Request URL {url} validates Twilio's signature.")
    if response.status_code == 403:
        diagnosis = _rejection_since(integration.id, started)
        message = f"The Request URL {url} refused the signed request (403)."
        if diagnosis is not None:
            message += f" {diagnosis.summary} {diagnosis.fix}"
        return WebhookTestResult(False, url, message, diagnosis)
    return WebhookTestResult(
        False, url, f"The Request URL {url} answered HTTP {response.status_code}, not 200."
    )


def doctor(domain_id: str | None = None) -> list[Check]:
    """Check the configuration, each domain's credentials and Request URL, and recent
    rejections. ``domain_id`` limits the domain checks to one IA Domain."""
    config = current_app.config
    checks = [
        Check("SECRET_KEY", bool(current_app.secret_key), "set" if current_app.secret_key
              else "not set: the settings page's forms need it"),
        Check(
            "XSMS_VALIDATE_SIGNATURES",
            bool(config["XSMS_VALIDATE_SIGNATURES"]),
            "on" if config["XSMS_VALIDATE_SIGNATURES"]
            else "off: every request is accepted, signed or not (local development only)",
        ),
    ]
    base = config["XSMS_PUBLIC_BASE_URL"]
    checks.append(
        Check(
            "XSMS_PUBLIC_BASE_URL",
            True,
            base or "not set: webhook URLs come from each request (trust the proxy's headers"
            " with ProxyFix); the Request URLs cannot be tested from here",
        )
    )
    query = sa.select(Integration).order_by(Integration.domain_id)
    if domain_id is not None:
        query = query.where(Integration.domain_id == domain_id)
    since = utcnow() - dt.timedelta(days=1)
    for integration in get_state().session.scalars(query).all():
        name = f"IA Domain {integration.domain_id}"
        if get_state().credentials(integration.account_id) is None:
            checks.append(Check(f"{name} credentials", False,
                                f"none for account {integration.account_id}"))
            continue
        checks.append(Check(f"{name} credentials", True, f"account {integration.account_id}"))
        if base:
            result = send_test_webhook(integration)
            checks.append(Check(f"{name} Request URL", result.ok, result.message))
        recent = [r for r in recent_rejections(integration.id) if as_utc(r.created_at) >= since]
        if recent:
            diagnosis = explain(recent[0])
            checks.append(Check(
                f"{name} rejections", False,
                f"{len(recent)} refused in the last 24 hours; last: {diagnosis.summary}"
                f" {diagnosis.fix}",
            ))
        else:
            checks.append(Check(f"{name} rejections", True, "none in the last 24 hours"))
    return checks


# -- helpers ---------------------------------------------------------------------------


def _matching_candidate(
    auth_token: str,
    signature: str,
    params: t.Mapping[str, t.Any],
    candidates: list[tuple[str, str]],
) -> tuple[str, str] | None:
    for base, url in candidates:
        if twilio_api.signature_is_valid(auth_token, url, params, signature):
            return base, url
    return None


def _forwarded(headers: t.Mapping[str, str]) -> dict[str, str]:
    """The first hop's ``proto``, ``host``, ``port`` and ``prefix`` from the forwarding
    headers (``X-Forwarded-*`` first, then ``Forwarded``)."""
    found = {}
    for key, name in (
        ("proto", "X-Forwarded-Proto"),
        ("host", "X-Forwarded-Host"),
        ("port", "X-Forwarded-Port"),
        ("prefix", "X-Forwarded-Prefix"),
    ):
        if headers.get(name):
            found[key] = headers[name].split(",")[0].strip()
    for part in (headers.get("Forwarded") or "").split(",")[0].split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() in ("proto", "host") and value:
            found.setdefault(key.lower(), value.strip('"'))
    if "proto" in found:
        found["proto"] = found["proto"].lower()
    if "prefix" in found:
        found["prefix"] = "/" + found["prefix"].strip("/")
    return found


def _rejection_since(integration_id: int, moment: dt.datetime) -> Diagnosis | None:
    session = get_state().session
    session.rollback()  # see the row the other request committed
    for rejection in recent_rejections(integration_id, limit=1):
        if as_utc(rejection.created_at) >= moment - dt.timedelta(seconds=1):
            return explain(rejection)
    return None


def _prune(connection: sa.Connection, integration_id: int) -> None:
    config = current_app.config
    table = WebhookRejection.__table__
    oldest = utcnow() - dt.timedelta(seconds=float(config["XSMS_WEBHOOK_REJECTIONS_MAX_AGE"]))
    connection.execute(sa.delete(table).where(table.c.created_at < oldest))
    scope = table.c.integration_id == integration_id
    newest = (
        sa.select(table.c.id)
        .where(scope)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(int(config["XSMS_WEBHOOK_REJECTIONS_KEPT"]))
    )
    kept_ids = [row[0] for row in connection.execute(newest)]
    if kept_ids:
        connection.execute(sa.delete(table).where(scope, table.c.id.not_in(kept_ids)))
