"""Named leases in the database: one process at a time does a periodic job."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .models import Lease
from .models import utcnow

_leases = Lease.__table__
_TAKE = sa.update(_leases).where(
    _leases.c.name == sa.bindparam("b_name"),
    sa.or_(_leases.c.expires_at < sa.bindparam("b_now"), _leases.c.holder == sa.bindparam("b_holder")),
)


def acquire(engine: sa.Engine, name: str, holder: str, seconds: float) -> bool:
    """Take the lease ``name`` for ``seconds`` if it is free (or already ``holder``'s).

    One conditional ``UPDATE`` (or the ``INSERT`` of a new lease) decides between
    processes; returns whether ``holder`` has it now.
    """
    now = utcnow()
    expires = now + dt.timedelta(seconds=seconds)
    with engine.begin() as connection:
        taken = connection.execute(
            _TAKE.values(holder=holder, expires_at=expires),
            {"b_name": name, "b_now": now, "b_holder": holder},
        )
        if taken.rowcount:
            return True
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(_leases).values(name=name, holder=holder, expires_at=expires)
            )
    except IntegrityError:
        return False  # another holder has it
    return True
