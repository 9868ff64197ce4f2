"""The dunning pages: start a run, see its progress and refusal, preview and send, letters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from collections_app.models import DunningExclusion, DunningLetter, DunningRun
from tests.factories.collections import DisputeFactory
from tests.factories.collections_dunning import bank_statement, customer, eu_entity, invoice, policy_for
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
D = Decimal
RUN_DAY = dt.date(2026, 5, 20)


@pytest.fixture
def book(today, monkeypatch):
    today(RUN_DAY)
    monkeypatch.setattr("collections_app.services.dunning.dunning_letters_queue", lambda ids: None)
    entity = eu_entity()
    policy_for(entity)
    bank_statement(entity, RUN_DAY)
    return entity


def test_collector_starts_a_run_from_the_page_and_sees_letters_and_reasons(
        client, book, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    cust = customer()
    disputed = invoice(book, cust, "1000.00", issue=dt.date(2026, 3, 1))
    invoice(book, cust, "500.00")
    DisputeFactory(invoice=disputed, amount=D("1190.00"))
    client.force_login(user_with_role("Collector"))

    assert client.get(reverse("collections_app:dunning")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("collections_app:dunning_run_start"), {"legal_entity": book.pk})
    run = DunningRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("collections_app:dunning_run", args=[run.pk])
    with django_assert_max_num_queries(20):
        page = client.get(response["Location"])
    assert page.status_code == 200
    assert b'data-testid="dunning-progress"' in page.content and b"100%" in page.content
    letter = DunningLetter.objects.get()
    detail = client.get(reverse("collections_app:dunning_letter", args=[letter.pk])).content.decode()
    assert disputed.number in detail and "disputed" in detail
    progress = client.get(reverse("collections_app:dunning_run_progress", args=[run.pk]))
    assert progress.status_code == 200 and b"hx-get" not in progress.content  # finished: no more polling


def test_a_refused_run_says_why_on_its_page(client, book, django_capture_on_commit_callbacks):
    invoice(book, customer(), "1000.00")
    bank_statement(book, dt.date(2026, 5, 1), account=None)  # the same account; its last is still today
    from receivables.models import BankAccount

    stale = BankAccount.objects.create(legal_entity=book, name="Savings", account_number="DE00SAV",
                                       currency="EUR", gl_account=BankAccount.objects.first().gl_account)
    bank_statement(book, dt.date(2026, 4, 1), account=stale)
    client.force_login(user_with_role("Collector"))
    response = client.post(reverse("collections_app:dunning_run_start"), {"legal_entity": book.pk}, follow=True)
    content = response.content.decode()
    assert 'data-testid="dunning-refusal"' in content
    assert "Savings: last statement dated 2026-04-01" in content
    assert DunningLetter.objects.count() == 0


def test_preview_page_sends_the_run_and_the_sent_pdf_is_served_checked(client, book, django_capture_on_commit_callbacks):
    policy_for(book, preview_required=True)
    invoice(book, customer(), "1000.00")
    client.force_login(user_with_role("Collector"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("collections_app:dunning_run_start"), {"legal_entity": book.pk})
    run = DunningRun.objects.get()
    page = client.get(reverse("collections_app:dunning_run", args=[run.pk])).content.decode()
    assert 'data-testid="dunning-send"' in page
    letter = DunningLetter.objects.get()
    preview = client.get(reverse("collections_app:dunning_letter_pdf", args=[letter.pk]))
    assert preview.content.startswith(b"%PDF")
    letter.refresh_from_db()
    assert letter.pdf_sha256 == ""  # a preview is not stored
    client.post(reverse("collections_app:dunning_run_send", args=[run.pk]))
    letter.refresh_from_db()
    assert letter.status == "sent"
    served = client.get(reverse("collections_app:dunning_letter_pdf", args=[letter.pk]))
    assert served.status_code == 200 and len(DunningLetter.objects.get().pdf_sha256) == 64


def test_sales_reps_may_not_see_or_start_dunning(client, book):
    client.force_login(user_with_role("Sales Rep"))
    assert client.get(reverse("collections_app:dunning")).status_code == 403
    assert client.post(reverse("collections_app:dunning_run_start"), {"legal_entity": book.pk}).status_code == 403
    assert DunningRun.objects.count() == 0


def test_policy_page_saves_levels_and_only_a_controller_may(client, book):
    url = reverse("collections_app:dunning_policy", args=[book.pk])
    data = {"is_active": "on", "language": "en", "sender_name": "Credit Control", "sender_email": "",
            "statement_max_age_days": "2", "reference_rate": "3.15", "interest_margin": "8",
            "fixed_compensation": "40", "compensation_currency": "EUR",
            "levels-TOTAL_FORMS": "2", "levels-INITIAL_FORMS": "0", "levels-MIN_NUM_FORMS": "0",
            "levels-MAX_NUM_FORMS": "9",
            "levels-0-number": "1", "levels-0-days_after_due": "5", "levels-0-template": "friendly",
            "levels-0-channel": "email",
            "levels-1-number": "2", "levels-1-days_after_due": "30", "levels-1-template": "final",
            "levels-1-channel": "letter", "levels-1-charge_interest": "on"}
    client.force_login(user_with_role("Collector"))
    assert client.post(url, data).status_code == 403
    client.force_login(user_with_role("Controller"))
    assert client.get(url).status_code == 200
    assert client.post(url, data).status_code == 302
    book.dunning_policy.refresh_from_db()
    assert (book.dunning_policy.language, book.dunning_policy.reference_rate) == ("en", D("3.15"))
    assert list(book.dunning_policy.levels.values_list("number", "days_after_due", "charge_interest")) == [
        (1, 5, False), (2, 30, True)]


def test_exclusion_flag_from_the_page(client, book):
    cust = customer()
    client.force_login(user_with_role("Collector"))
    client.post(reverse("collections_app:dunning_exclusion_add"),
                {"customer": cust.account_number, "reason": "Key account under review"})
    flag = DunningExclusion.objects.get()
    assert (flag.customer_id, flag.invoice_id, flag.lifted_at) == (cust.pk, None, None)
    client.post(reverse("collections_app:dunning_exclusion_lift", args=[flag.pk]))
    flag.refresh_from_db()
    assert flag.lifted_at is not None


def test_customer_page_shows_the_dunning_and_credit_panel(client, book):
    from collections_app.services.credit_holds import credit_hold_place

    cust = customer()
    manager = user_with_role("Finance Manager")
    credit_hold_place(legal_entity_id=book.pk, customer_id=cust.pk, by=manager, reason="Cheque bounced")
    from django.template.loader import render_to_string

    from otc.registry import registry

    [panel] = [p for p in registry.customer if p.key == "collections-dunning"]
    html = render_to_string(panel.template, {"ctx": panel.context(None, customer=cust)})
    assert 'data-testid="dunning-panel"' in html and "On credit hold (DE01)" in html and "Cheque bounced" in html


def test_a_reminder_sent_from_the_customers_collections_page_reminds_that_customer_only(
        client, book, django_capture_on_commit_callbacks):
    cust, other = customer(), customer("Andere GmbH")
    invoice(book, cust, "1000.00", issue=dt.date(2026, 3, 1))
    invoice(book, other, "500.00", issue=dt.date(2026, 3, 1))
    client.force_login(user_with_role("Collector"))
    page = client.get(reverse("collections_app:customer", args=[cust.pk])).content.decode()
    assert f'data-testid="remind-{book.code}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("collections_app:dunning_run_start"),
                               {"legal_entity": book.pk, "customer": cust.pk})
    run = DunningRun.objects.get()
    assert response["Location"] == reverse("collections_app:dunning_run", args=[run.pk])
    assert list(DunningLetter.objects.values_list("customer_id", flat=True)) == [cust.pk]
    # the daily run the same day reminds the other customer and never this one twice
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("collections_app:dunning_run_start"), {"legal_entity": book.pk})
    assert sorted(DunningLetter.objects.values_list("customer_id", flat=True)) == sorted([cust.pk, other.pk])
