"""The example host's own pages: sign in, sign out, and the list of IA Domains."""
from __future__ import annotations

from flask import flash
from flask import Flask
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Response

from flask_xsms import PermissionDenied

from .forms import LoginForm
from .models import Account
from .models import db
from .models import Domain
from .models import Environment
from .models import User


def register(app: Flask) -> None:
    app.add_url_rule("/", view_func=index)
    app.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    app.add_url_rule("/logout", view_func=logout, methods=["POST"])
    app.register_error_handler(PermissionDenied, permission_denied)


@login_required
def index() -> str:
    account_ids = [a.id for a in current_user.accounts]
    domains = db.session.scalars(
        db.select(Domain)
        .join(Domain.environment)
        .join(Environment.account)
        .where(Account.id.in_(account_ids))
        .order_by(Account.name, Environment.name, Domain.name)
    ).all()
    return render_template("index.html", domains=domains)


def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        # No address holds a NUL character (and PostgreSQL refuses to compare one).
        query = db.select(User).filter_by(email=email)
        user = db.session.scalar(query) if "\x00" not in email else None
        if user is not None and user.check_password(form.password.data):
            login_user(user)
            return redirect(local_target(request.args.get("next", "")) or url_for("index"))
        flash("Wrong email or password.", "error")
    return render_template("login.html", form=form)


def local_target(target: str) -> str | None:
    """``target`` as a path of this site to go to after sign-in, or None when it is not one.

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash: a path
    with any of them could lead to another site, so it is refused.
    """
    if not target.startswith("/") or not target.isprintable() or "\\" in target:
        return None
    if target.startswith("//"):
        return None
    return iri_to_uri(target)


def logout() -> Response:
    logout_user()
    return redirect(url_for("login"))


def permission_denied(error: PermissionDenied) -> Response | tuple[str, int]:
    """Signed-out visitors of the extension's pages are sent to sign in first."""
    if not current_user.is_authenticated:
        return redirect(url_for("login", next=request.full_path.rstrip("?")))
    return render_template("forbidden.html"), 403
