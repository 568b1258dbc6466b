"""The extension's pages. Every view checks the host's permission callback first."""
from __future__ import annotations

from flask import Blueprint
from flask import render_template

from . import numbers
from .extension import get_state


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
    return bp


def integrations(domain_id: str) -> str:
    """The Integrations panel of a domain."""
    domain = get_state().manageable_domain(domain_id)
    return render_template(
        "xsms/integrations.html", domain=domain, number_count=len(numbers.bindings_of(domain))
    )
