"""The example host's own data: accounts, environments, IA Domains, applications, users."""
from __future__ import annotations

from flask import current_app
from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

db = SQLAlchemy()

user_accounts = db.Table(
    "user_account",
    db.Column("user_id", ForeignKey("user.id"), primary_key=True),
    db.Column("account_id", ForeignKey("account.id"), primary_key=True),
)


class Account(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    environments: Mapped[list[Environment]] = relationship(back_populates="account")


class Environment(db.Model):
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    name: Mapped[str] = mapped_column(String(50))
    account: Mapped[Account] = relationship(back_populates="environments")
    domains: Mapped[list[Domain]] = relationship(back_populates="environment")


class Domain(db.Model):
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environment.id"))
    name: Mapped[str] = mapped_column(String(100))
    environment: Mapped[Environment] = relationship(back_populates="domains")
    applications: Mapped[list[Application]] = relationship(
        back_populates="domain", order_by="Application.id"
    )


class Application(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"))
    name: Mapped[str] = mapped_column(String(100))
    channel_type: Mapped[str] = mapped_column(String(50))
    domain: Mapped[Domain] = relationship(back_populates="applications")


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    accounts: Mapped[list[Account]] = relationship(secondary=user_accounts)

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
