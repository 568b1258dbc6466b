"""Prepare a benchmark database: the example app's data plus N bound numbers.

    python benchmarks/seed.py URL COUNT

The harness's ``To`` number (+14150012345) is bound to the Customer Assistant of Acme's
Customer Care domain, whose webhook id is fixed (bench_app.WEBHOOK_ID); COUNT - 1 more
numbers fill other domains of the account. Rows are written in bulk, not through the
number rules: the harness's numbers are not all dialable.
"""
from __future__ import annotations

import sys

import sqlalchemy as sa

from bench_app import WEBHOOK_ID
from example_app import create_app
from example_app import init_database
from example_app.models import db
from example_app.models import Domain
from flask_xsms.integrations import create_integration
from flask_xsms.models import metadata as xsms_metadata
from flask_xsms.models import NumberBinding
from example_app.host import as_xsms_domain

BENCH_TO = "+14150012345"


def seed(url: str, count: int) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        xsms_metadata.drop_all(db.engine)
        db.drop_all()
        init_database()
        domains = [as_xsms_domain(d) for d in db.session.scalars(sa.select(Domain).order_by(Domain.id))]
        acme = [d for d in domains if d.account_id == domains[0].account_id]
        integrations = {d.id: create_integration(d) for d in acme}
        integrations[acme[0].id].webhook_id = WEBHOOK_ID
        db.session.commit()
        apps = {
            d.id: next(a.id for a in db.session.get(Domain, int(d.id)).applications)
            for d in acme
        }

        def row(n: int, domain_id: str, number: str) -> dict[str, object]:
            domain = next(d for d in acme if d.id == domain_id)
            return {
                "integration_id": integrations[domain_id].id,
                "account_id": domain.account_id,
                "environment": domain.environment,
                "domain_id": domain_id,
                "application_id": apps[domain_id],
                "phone_number": number,
                "position": n,
            }

        rows = [row(0, acme[0].id, BENCH_TO)]
        for n in range(1, count):
            domain = acme[n % len(acme)]
            rows.append(row(n, domain.id, f"+1650{n:07d}"))
        for start in range(0, len(rows), 5000):
            db.session.execute(sa.insert(NumberBinding), rows[start : start + 5000])
        db.session.commit()
        print(f"seeded {count} bound numbers; webhook path /xsms/hooks/{WEBHOOK_ID}/sms")


if __name__ == "__main__":
    seed(sys.argv[1], int(sys.argv[2]))
