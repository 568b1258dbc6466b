"""Demo data: the accounts, environments, domains and applications of the example app."""
from __future__ import annotations

from .models import Account
from .models import Application
from .models import db
from .models import Domain
from .models import Environment
from .models import User

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo"

#: (account, environment, domain, [(application, channel type), ...])
SEED = [
    ("Acme", "production", "Customer Care", "Acme Care"),
    ("Acme", "production", "Sales", "Acme Sales"),
    ("Acme", "staging", "Customer Care", "Acme Care Staging"),
]


def _apps(prefix: str) -> list[tuple[str, str]]:
    return [
        (f"{prefix} Assistant", "Customer Assistant"),
        (f"{prefix} Agent Helper", "Agent Assistant"),
        (f"{prefix} Web Widget", "Web Widget"),
    ]


DOMAINS = [(a, e, d, _apps(p)) for a, e, d, p in SEED] + [
    ("Globex", "production", "Helpdesk", [("Globex Helpdesk Assistant", "Customer Assistant")]),
]


def seed() -> bool:
    """Create the demo data unless it exists. Returns whether anything was added."""
    if db.session.scalar(db.select(User).filter_by(email=DEMO_EMAIL)) is not None:
        return False
    accounts: dict[str, Account] = {}
    environments: dict[tuple[str, str], Environment] = {}
    for account_name, env_name, domain_name, apps in DOMAINS:
        account = accounts.get(account_name)
        if account is None:
            account = accounts[account_name] = Account(name=account_name)
        environment = environments.get((account_name, env_name))
        if environment is None:
            environment = environments[(account_name, env_name)] = Environment(
                account=account, name=env_name
            )
        domain = Domain(environment=environment, name=domain_name)
        for app_name, channel_type in apps:
            domain.applications.append(Application(name=app_name, channel_type=channel_type))
        db.session.add(domain)
    user = User(email=DEMO_EMAIL, accounts=list(accounts.values()))
    user.set_password(DEMO_PASSWORD)
    db.session.add(user)
    db.session.commit()
    return True
