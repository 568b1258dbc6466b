from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_xsms import BindingError
from flask_xsms import NumberError
from flask_xsms import Pair
from flask_xsms import RowError
from flask_xsms import signals
from flask_xsms._extension import get_state
from flask_xsms.integrations import create_integration
from flask_xsms.models import NumberBinding
from flask_xsms.numbers import bindable_applications
from flask_xsms.numbers import bindings_of
from flask_xsms.numbers import normalize_number
from flask_xsms.numbers import PLUS_SIGN_REQUIRED
from flask_xsms.numbers import replace_bindings

from .hostapp import Directory

CARE, SALES, CARE_STAGING, HELPDESK = "1", "2", "3", "4"


def save(directory: Directory, domain_id: str, *pairs: tuple[str, str]) -> list[NumberBinding]:
    return replace_bindings(directory.domains[domain_id], [Pair(n, a) for n, a in pairs])


def saved(directory: Directory, domain_id: str) -> list[tuple[str, str]]:
    return [(b.phone_number, b.application_id) for b in bindings_of(directory.domains[domain_id])]


def errors_of(directory: Directory, domain_id: str, *pairs: tuple[str, str]) -> list[RowError]:
    with pytest.raises(BindingError) as info:
        save(directory, domain_id, *pairs)
    return info.value.errors


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+14155550100", "+14155550100"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("  +1 415.555.0100 ", "+14155550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+1\u00a0415\u00a0555\u00a00100", "+14155550100"),
    ],
)
def test_pretty_numbers_are_normalised_to_e164(typed: str, e164: str) -> None:
    assert normalize_number(typed) == e164


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("14155550100", PLUS_SIGN_REQUIRED),
        ("(415) 555-0100", PLUS_SIGN_REQUIRED),
        ("00 1 415 555 0100", PLUS_SIGN_REQUIRED),
        ("", "Enter a phone number."),
        ("   ", "Enter a phone number."),
        (None, "Enter a phone number."),
        ("+1415555", "+1415555 is not a valid phone number."),
        ("+0123", "+0123 is not a valid phone number."),
        ("++14155550100", "++14155550100 is not a valid phone number."),
        ("+1 800 FLOWERS", "+1 800 FLOWERS is not a valid phone number."),
        ("+1415a5550100", "+1415a5550100 is not a valid phone number."),
        ("+14155550100 ext. 12", "+14155550100 ext. 12 is not a valid phone number."),
        ("+1 415 555 0100 5", "+1 415 555 0100 5 is not a valid phone number."),
        ("+" + "1" * 60, "+" + "1" * 60 + " is not a valid phone number."),
    ],
)
def test_bad_numbers_are_refused_with_a_clear_message(typed: str | None, message: str) -> None:
    with pytest.raises(NumberError) as info:
        normalize_number(typed)
    assert str(info.value) == message


def test_plus_sign_message_is_the_original_products() -> None:
    assert PLUS_SIGN_REQUIRED == "Phone numbers need to start with a + sign."


def test_only_customer_and_agent_assistants_are_bindable(app: Flask, directory: Directory) -> None:
    apps = bindable_applications(directory.domains[CARE])
    assert [(a.id, a.channel_type) for a in apps] == [
        ("11", "Customer Assistant"),
        ("12", "Agent Assistant"),
    ]


def test_save_normalises_and_keeps_the_order(app: Flask, directory: Directory) -> None:
    save(directory, CARE, ("+1 (415) 555-0100", "11"), ("+1 415 555 0101", "12"))
    assert saved(directory, CARE) == [("+14155550100", "11"), ("+14155550101", "12")]


def test_bindings_carry_account_environment_and_domain(app: Flask, directory: Directory) -> None:
    (binding,) = save(directory, CARE_STAGING, ("+14155550100", "31"))
    assert (binding.account_id, binding.environment, binding.domain_id) == (
        "acme",
        "staging",
        CARE_STAGING,
    )
    assert binding.integration.domain_id == CARE_STAGING


@pytest.mark.parametrize(
    ("domain_id", "pairs", "expected"),
    [
        pytest.param(
            CARE,
            [("4155550100", "11")],
            [RowError(0, "phone_number", PLUS_SIGN_REQUIRED)],
            id="no-plus",
        ),
        pytest.param(
            CARE,
            [("+14155550100", "11"), ("+1 415 555 0100", "12")],
            [RowError(1, "phone_number", "+14155550100 is already used in this IA Domain.")],
            id="twice-in-one-domain",
        ),
        pytest.param(
            CARE,
            [("+14155550100", "13")],
            [
                RowError(
                    0,
                    "application",
                    "Only Customer Assistant and Agent Assistant applications can be bound"
                    " to a phone number.",
                )
            ],
            id="wrong-channel-type",
        ),
        pytest.param(
            CARE,
            [("+14155550100", "21")],
            [
                RowError(
                    0,
                    "application",
                    "This application is not in the IA Domain Customer Care (production).",
                )
            ],
            id="application-of-another-domain",
        ),
        pytest.param(
            CARE,
            [("+14155550100", "")],
            [RowError(0, "application", "Choose an application.")],
            id="no-application",
        ),
        pytest.param(
            CARE,
            [("", "11"), ("+1415555", "99")],
            [
                RowError(0, "phone_number", "Enter a phone number."),
                RowError(1, "phone_number", "+1415555 is not a valid phone number."),
                RowError(
                    1,
                    "application",
                    "This application is not in the IA Domain Customer Care (production).",
                ),
            ],
            id="every-bad-row-says-why",
        ),
    ],
)
def test_rules_refuse_bad_rows(
    app: Flask,
    directory: Directory,
    domain_id: str,
    pairs: list[tuple[str, str]],
    expected: list[RowError],
) -> None:
    assert errors_of(directory, domain_id, *pairs) == expected
    assert saved(directory, domain_id) == []


def test_number_of_another_domain_is_refused_naming_it(app: Flask, directory: Directory) -> None:
    save(directory, SALES, ("+14155550100", "21"))
    assert errors_of(directory, CARE, ("+14155550101", "11"), ("+1 415 555 0100", "11")) == [
        RowError(1, "phone_number", "+14155550100 is already used in the IA Domain Sales (production).")
    ]


def test_number_of_another_environment_is_refused_naming_it(
    app: Flask, directory: Directory
) -> None:
    save(directory, CARE, ("+14155550100", "11"))
    assert errors_of(directory, CARE_STAGING, ("+14155550100", "31")) == [
        RowError(
            0,
            "phone_number",
            "+14155550100 is already used in the IA Domain Customer Care (production).",
        )
    ]


def test_another_account_may_use_the_same_number(app: Flask, directory: Directory) -> None:
    save(directory, CARE, ("+14155550100", "11"))
    save(directory, HELPDESK, ("+14155550100", "41"))
    assert saved(directory, HELPDESK) == [("+14155550100", "41")]
    assert saved(directory, CARE) == [("+14155550100", "11")]


def test_save_replaces_the_domain_pairs(app: Flask, directory: Directory) -> None:
    save(directory, CARE, ("+14155550100", "11"), ("+14155550101", "12"))
    (kept,) = [b.id for b in bindings_of(directory.domains[CARE]) if b.phone_number == "+14155550101"]
    save(directory, CARE, ("+14155550101", "11"), ("+14155550102", "12"))
    assert saved(directory, CARE) == [("+14155550101", "11"), ("+14155550102", "12")]
    # a number that stays keeps its row (and its history), only the application changes
    assert [b.id for b in bindings_of(directory.domains[CARE]) if b.phone_number == "+14155550101"] == [kept]


def test_a_removed_number_is_free_for_another_domain(app: Flask, directory: Directory) -> None:
    save(directory, CARE, ("+14155550100", "11"))
    save(directory, CARE)
    save(directory, SALES, ("+14155550100", "21"))
    assert saved(directory, CARE) == []
    assert saved(directory, SALES) == [("+14155550100", "21")]


def test_one_bad_row_saves_nothing(app: Flask, directory: Directory) -> None:
    save(directory, CARE, ("+14155550100", "11"))
    errors = errors_of(directory, CARE, ("+14155550101", "11"), ("415", "12"))
    assert errors == [RowError(1, "phone_number", PLUS_SIGN_REQUIRED)]
    assert saved(directory, CARE) == [("+14155550100", "11")]


def test_numbers_saved_signal(app: Flask, directory: Directory) -> None:
    received = []

    def receiver(sender: Flask, **kw: object) -> None:
        received.append((sender, kw["domain"], [b.phone_number for b in kw["bindings"]]))

    with signals.numbers_saved.connected_to(receiver):
        save(directory, CARE, ("+14155550100", "11"))
        errors_of(directory, CARE, ("nope", "11"))
    assert received == [(app, directory.domains[CARE], ["+14155550100"])]


def test_database_refuses_a_number_twice_in_one_account(app: Flask, directory: Directory) -> None:
    (binding,) = save(directory, CARE, ("+14155550100", "11"))
    session = get_state().session
    session.add(
        NumberBinding(
            integration_id=binding.integration_id,
            account_id="acme",
            environment="staging",
            domain_id=CARE_STAGING,
            application_id="31",
            phone_number="+14155550100",
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()


@pytest.mark.parametrize(
    ("number", "named"),
    [
        ("+14155550100", "+14155550100"),
        ("MG" + "ab12" * 8, "Messaging Service MG" + "ab12" * 8),
    ],
    ids=["number", "messaging-service"],
)
def test_concurrent_saves_of_one_number_have_one_winner(
    app: Flask, directory: Directory, number: str, named: str
) -> None:
    """Both saves pass the checks before either writes: the constraint decides."""
    barrier = threading.Barrier(2, timeout=10)
    outcomes: dict[str, object] = {}

    def wait_for_the_other(session: object, flush_context: object, instances: object) -> None:
        if not getattr(threading.current_thread(), "waited", False):
            threading.current_thread().waited = True  # type: ignore[attr-defined]
            barrier.wait()

    def worker(domain_id: str, application_id: str) -> None:
        with app.app_context():
            try:
                save(directory, domain_id, (number, application_id))
                outcomes[domain_id] = "saved"
            except BindingError as e:
                outcomes[domain_id] = e.errors
            finally:
                get_state().session.remove()

    for domain_id in (CARE, CARE_STAGING):
        create_integration(directory.domains[domain_id])
    session_class = get_state().session
    sa.event.listen(session_class, "before_flush", wait_for_the_other)
    threads = [
        threading.Thread(target=worker, args=(CARE, "11")),
        threading.Thread(target=worker, args=(CARE_STAGING, "31")),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        sa.event.remove(session_class, "before_flush", wait_for_the_other)
    assert sorted(map(str, outcomes.values())).count("saved") == 1, outcomes
    (winner,) = [d for d, o in outcomes.items() if o == "saved"]
    (loser,) = [d for d, o in outcomes.items() if o != "saved"]
    winner_label = directory.domains[winner].label
    assert outcomes[loser] == [
        RowError(0, "phone_number", f"{named} is already used in the IA Domain {winner_label}.")
    ]
    assert saved(directory, winner) == [(number, "11" if winner == CARE else "31")]
    assert saved(directory, loser) == []


def test_a_large_domain_saves_in_one_go(app: Flask, directory: Directory) -> None:
    """More numbers than one lookup statement takes: the checks go in chunks."""
    many = [(f"+1415{2000000 + n:07d}", "11") for n in range(1200)]
    save(directory, SALES, ("+14152000007", "21"))
    errors = errors_of(directory, CARE, *many)
    assert errors == [
        RowError(7, "phone_number", "+14152000007 is already used in the IA Domain Sales (production).")
    ]
    save(directory, CARE, *many[8:])
    assert len(saved(directory, CARE)) == 1192
