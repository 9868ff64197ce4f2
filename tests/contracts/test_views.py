"""Contract pages: list, create/edit, the review page and its buttons, comments, and who is
refused (another rep's contract is 404; acting without the permission is 403)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from contracts import services
from contracts.models import Contract, ContractComment, ContractVersion
from tests.factories.contracts_views import world_fixture  # noqa: F401
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.queries import queries_for

pytestmark = pytest.mark.django_db
LIST = reverse("contracts:list")


def detail(version_or_contract) -> str:
    contract = getattr(version_or_contract, "contract", version_or_contract)
    return reverse("contracts:detail", args=[contract.pk])


def form_data(world, **overrides) -> dict:
    """What the create form posts: the header and one recurring line."""
    data = {
        "customer": world.customer.pk, "legal_entity": world.entity.pk, "title": "Platform deal",
        "currency": "EUR", "start_date": "2026-01-01", "end_date": "2026-12-31",
        "billing_frequency": "monthly", "billing_timing": "advance", "payment_terms_days": "30",
        "discount_percent": "0", "prepayment_percent": "0", "late_fee_percent": "0", "free_periods": "0",
        "renewal_notice_days": "0", "notes": "",
        "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "200",
        "lines-0-product": world.product.pk, "lines-0-kind": "recurring", "lines-0-description": "Seats",
        "lines-0-quantity": "10", "lines-0-unit_price": "1,000.00", "lines-0-discount_percent": "0",
        "lines-0-minimum_commitment": "0",
        # an untouched extra row is ignored
        "lines-1-kind": "recurring", "lines-1-quantity": "1", "lines-1-discount_percent": "0",
        "lines-1-minimum_commitment": "0",
    }
    data.update(overrides)
    return data


# --- list ---------------------------------------------------------------------------------------

def test_list_shows_only_the_reps_own_contracts_with_value(client, world):
    mine = world.draft("1000.00")
    other_customer = CustomerFactory(sales_owner=world.other_rep)
    theirs = services.contract_create(data=world.data(customer_id=other_customer.id), lines=[world.line()],
                                      by=world.other_rep)
    client.force_login(world.rep)

    html = client.get(LIST).content.decode()

    assert mine.contract.number in html
    assert theirs.number not in html
    assert "12,000.00 EUR" in html
    assert "New contract" in html


def test_list_filters_and_search(client, world):
    first = world.draft(title="Alpha deal")
    second = world.submitted(title="Beta deal")
    client.force_login(world.reviewer)

    by_status = client.get(LIST, {"status": "in_review"}).content.decode()
    by_search = client.get(LIST, {"q": first.contract.number}).content.decode()

    assert second.contract.number in by_status and first.contract.number not in by_status
    assert first.contract.number in by_search and second.contract.number not in by_search
    assert "New contract" not in by_search  # a reviewer does not create contracts


def test_list_query_count_does_not_grow_with_rows(client, world):
    client.force_login(world.reviewer)
    for _ in range(3):
        world.submitted()
    few = queries_for(client, LIST)
    for _ in range(9):
        world.submitted()
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert response.content.decode().count('data-testid="contract-table"') == 1
    assert len(many) == few


def test_list_refused_without_permission(client, world):
    client.force_login(user_with_role("Help Desk Agent"))  # reads contracts: allowed
    assert client.get(LIST).status_code == 200
    from tests.factories.otc import UserFactory

    client.force_login(UserFactory())
    assert client.get(LIST).status_code == 403


# --- create and edit ----------------------------------------------------------------------------

def test_rep_creates_a_contract_with_lines_and_sees_the_findings(client, world):
    client.force_login(world.rep)

    response = client.post(reverse("contracts:create"), form_data(world, payment_terms_days="90"))

    contract = Contract.objects.get()
    assert response.status_code == 302
    assert response.url == detail(contract) + "#findings"
    version = contract.versions.get()
    line = version.lines.get()
    assert (version.status, version.payment_terms_days) == ("draft", 90)
    assert (line.quantity, line.unit_price, line.description) == (Decimal("10"), Decimal("1000.00"), "Seats")
    page = client.get(response.url).content.decode()
    assert "Net 90 exceeds the standard Net 30 by 60 days" in page
    assert 'class="badge text-bg-orange status-high">High</span>' in page
    assert "120,000.00 EUR" in page  # 10 x 1,000.00 x 12 months
    assert 'data-testid="submit-button"' in page


def test_create_refuses_a_malformed_amount_and_writes_nothing(client, world):
    client.force_login(world.rep)

    response = client.post(reverse("contracts:create"), form_data(world, **{"lines-0-unit_price": "1,2,3"}))

    assert response.status_code == 200
    assert "is not an amount" in response.content.decode()
    assert not Contract.objects.exists()


def test_create_refuses_too_many_decimals_for_the_currency(client, world):
    client.force_login(world.rep)

    response = client.post(reverse("contracts:create"), form_data(world, **{"lines-0-unit_price": "10.123"}))

    assert "more than 2 decimal places" in response.content.decode()
    assert not Contract.objects.exists()


def test_create_offers_only_the_reps_customers(client, world):
    other_customer = CustomerFactory(sales_owner=world.other_rep)
    client.force_login(world.rep)

    page = client.get(reverse("contracts:create")).content.decode()
    response = client.post(reverse("contracts:create"), form_data(world, customer=other_customer.pk))

    assert other_customer.legal_name not in page
    assert response.status_code == 200
    assert not Contract.objects.exists()


def test_reviewer_cannot_create_or_edit(client, world):
    version = world.draft()
    client.force_login(world.reviewer)

    assert client.get(reverse("contracts:create")).status_code == 403
    assert client.post(reverse("contracts:edit", args=[version.contract.pk]), {}).status_code == 403


def test_rep_edits_a_draft_and_the_assessment_reruns(client, world):
    version = world.draft("1000.00")
    line = version.lines.get()
    client.force_login(world.rep)
    url = reverse("contracts:edit", args=[version.contract.pk])
    assert 'value="1000"' in client.get(url).content.decode()

    response = client.post(url, form_data(world, **{
        "payment_terms_days": "45", "lines-TOTAL_FORMS": "1", "lines-0-line_key": str(line.line_key),
        "lines-0-unit_price": "2000.00", "lines-0-quantity": "1"}))

    assert response.status_code == 302
    version.refresh_from_db()
    new_line = version.lines.get()
    assert version.payment_terms_days == 45
    assert (new_line.line_key, new_line.unit_price) == (line.line_key, Decimal("2000.00"))
    assessment = version.assessments.first()
    assert assessment.contract_value == Decimal("24000.00")
    assert assessment.findings.get().severity == "warning"


def test_edit_refused_once_submitted(client, world):
    version = world.submitted()
    client.force_login(world.rep)

    response = client.post(reverse("contracts:edit", args=[version.contract.pk]), form_data(world))

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == "submitted"
    assert version.lines.get().unit_price == Decimal("1000.00")


def test_other_rep_gets_404_everywhere(client, world):
    version = world.submitted()
    client.force_login(world.other_rep)
    pk = version.contract.pk

    for name in ("detail", "edit"):
        assert client.get(reverse(f"contracts:{name}", args=[pk])).status_code == 404
    for name in ("submit", "comment", "amend"):
        assert client.post(reverse(f"contracts:{name}", args=[pk]), {"body": "x", "effective_date": "2026-03-01"}
                           ).status_code == 404
    assert not ContractComment.objects.exists()


# --- the review page ---------------------------------------------------------------------------

def test_review_page_shows_findings_terms_values_exposure_and_chain(client, world):
    version = world.submitted("1000.00", payment_terms_days=90)
    client.force_login(world.reviewer)

    html = client.get(detail(version)).content.decode()

    assert "Net 90 exceeds the standard Net 30 by 60 days" in html
    assert "status-high" in html
    finding = version.assessments.first().findings.get()
    assert finding.mitigation and escape(finding.mitigation) in html
    assert 'data-testid="terms"' in html and "standard Net 30, max Net 60" in html
    assert "12,000.00 EUR" in html  # TCV and first year
    assert "1,000.00 EUR" in html   # monthly recurring
    assert 'data-testid="exposure"' in html and "10,000,000.00 EUR" in html  # credit limit
    assert "1. Contract Reviewer" in html and "2. Finance Manager" in html
    assert "Approve" in html and 'data-testid="decision-form"' in html


def test_decision_buttons_only_for_who_may_decide(client, world):
    version = world.submitted()
    auditor = user_with_role("Auditor")
    for user, shown in ((world.reviewer, True), (world.rep, False), (auditor, False), (world.manager, True)):
        client.force_login(user)
        html = client.get(detail(version)).content.decode()
        assert ('data-testid="decision-form"' in html) is shown, user


def test_rep_and_auditor_cannot_decide(client, world):
    version = world.submitted()
    url = reverse("contracts:decide", args=[version.contract.pk])
    for user in (world.rep, user_with_role("Auditor")):
        client.force_login(user)
        assert client.post(url, {"decision": "approved"}).status_code == 403
    version.refresh_from_db()
    assert version.status == "submitted"
    assert not version.approvals.exists()


def test_auditor_reads_but_cannot_act(client, world):
    version = world.submitted()
    client.force_login(user_with_role("Auditor"))
    pk = version.contract.pk

    html = client.get(detail(version)).content.decode()

    assert "Net 30" in html and 'id="history"' in html
    for name in ("submit", "override", "amend", "terminate", "comment"):
        assert client.post(reverse(f"contracts:{name}", args=[pk]), {"body": "x", "reason": "a long enough reason",
                                                                      "on": "2026-02-01"}).status_code == 403
    assert client.get(reverse("contracts:edit", args=[pk])).status_code == 403
    assert not ContractComment.objects.exists()


def test_full_flow_through_the_views_one_level(client, world):
    client.force_login(world.rep)
    client.post(reverse("contracts:create"), form_data(world, **{"lines-0-quantity": "5"}))  # 60,000.00 EUR
    contract = Contract.objects.get()

    response = client.post(reverse("contracts:submit", args=[contract.pk]))
    assert response.status_code == 302
    client.force_login(world.reviewer)
    queue = client.get(reverse("contracts:queue_review")).content.decode()
    assert contract.number in queue
    response = client.post(reverse("contracts:decide", args=[contract.pk]), {"decision": "approved", "comment": "OK"})

    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == "active"
    html = client.get(detail(contract)).content.decode()
    assert 'data-testid="contract-status"><span class="badge text-bg-success status-active">Active' in html
    assert 'data-testid="decision-form"' not in html
    assert contract.number not in client.get(reverse("contracts:queue_review")).content.decode()


def test_high_finding_needs_the_manager(client, world):
    version = world.submitted(payment_terms_days=90)
    url = reverse("contracts:decide", args=[version.contract.pk])
    client.force_login(world.reviewer)
    page = client.post(url, {"decision": "approved"}, follow=True).content.decode()
    version.refresh_from_db()
    assert version.status == "in_review"
    # the message says which level was approved and what comes next, not "version 1 approved"
    assert (f"{version.contract.number} version 1: level 1 of 2 (Contract Reviewer) approved. It stays in review "
            "until level 2 of 2: a Finance Manager&#x27;s approval.") in page
    html = client.get(detail(version)).content.decode()
    assert 'data-testid="decision-form"' not in html  # the reviewer approved level 1 already

    client.force_login(world.manager)
    assert "level 2 (Finance Manager)" in client.get(detail(version)).content.decode()
    page = client.post(url, {"decision": "approved"}, follow=True).content.decode()
    assert "level 2 of 2 (Finance Manager) approved, the last level required; the version is now" in page

    version.refresh_from_db()
    assert version.status == "active"
    assert list(version.approvals.values_list("level", "approver__username")) == [(1, "reviewer"), (2, "manager")]


def test_request_changes_needs_a_comment_then_goes_to_the_reps_queue(client, world):
    version = world.submitted()
    url = reverse("contracts:decide", args=[version.contract.pk])
    client.force_login(world.reviewer)

    response = client.post(url, {"decision": "changes_requested", "comment": ""}, follow=True)
    assert "Say why" in response.content.decode()
    client.post(url, {"decision": "changes_requested", "comment": "Ask for Net 30."})

    version.refresh_from_db()
    assert version.status == "changes_requested"
    client.force_login(world.rep)
    assert version.contract.number in client.get(reverse("contracts:queue_changes")).content.decode()
    assert 'data-testid="submit-button"' in client.get(detail(version)).content.decode()


def test_segregation_of_duties_comes_back_as_a_message(client, world):
    version = world.submitted()
    version.contract.sales_owner = world.reviewer
    version.contract.save(update_fields=["sales_owner"])
    client.force_login(world.reviewer)

    response = client.post(reverse("contracts:decide", args=[version.contract.pk]), {"decision": "approved"},
                           follow=True)

    assert response.status_code == 200
    assert "another person must decide" in response.content.decode()
    assert not version.approvals.exists()


def test_blocking_finding_override_form_for_the_controller_only(client, world):
    version = world.submitted(notes="BLOCK")
    client.force_login(world.reviewer)
    assert 'id="override"' not in client.get(detail(version)).content.decode()
    assert client.post(reverse("contracts:override", args=[version.contract.pk]),
                       {"reason": "CFO accepted the risk"}).status_code == 403

    client.force_login(world.controller)
    assert 'id="override"' in client.get(detail(version)).content.decode()
    client.post(reverse("contracts:override", args=[version.contract.pk]), {"reason": "CFO accepted the risk"})

    version.refresh_from_db()
    assert version.override_by == world.controller
    assert version.override_reason == "CFO accepted the risk"
    assert "Blocking finding overridden" in client.get(detail(version)).content.decode()


def test_controller_terminates_an_active_contract(client, world):
    version = world.active()
    client.force_login(world.rep)
    assert 'id="terminate"' not in client.get(detail(version)).content.decode()
    assert client.post(reverse("contracts:terminate", args=[version.contract.pk]),
                       {"on": "2026-06-30", "reason": "Customer left"}).status_code == 403

    client.force_login(world.controller)
    client.post(reverse("contracts:terminate", args=[version.contract.pk]), {"on": "2026-06-30", "reason": "Customer left"})

    contract = Contract.objects.get(pk=version.contract.pk)
    assert (contract.status, contract.terminated_on) == ("terminated", dt.date(2026, 6, 30))


def test_rep_amends_an_active_contract_and_the_diff_shows_the_change(client, world):
    version = world.active()
    contract = version.contract
    client.force_login(world.rep)

    response = client.post(reverse("contracts:amend", args=[contract.pk]), {"effective_date": "2026-04-01"})

    assert response.status_code == 302 and response.url == reverse("contracts:edit", args=[contract.pk])
    amendment = contract.versions.get(version=2)
    line = amendment.lines.get()
    client.post(response.url, form_data(world, **{
        "effective_date": "2026-04-01", "payment_terms_days": "45", "lines-TOTAL_FORMS": "1",
        "lines-0-line_key": str(line.line_key), "lines-0-quantity": "1", "lines-0-unit_price": "1500.00"}))
    html = client.get(detail(contract)).content.decode()
    assert 'data-testid="version-diff"' in html
    assert "Payment terms (days)" in html and "Line 1 (Seats): unit price" in html
    assert "1,500" in html


def test_comment_posted_with_htmx_returns_the_thread(client, world):
    version = world.submitted()
    client.force_login(world.reviewer)

    response = client.post(reverse("contracts:comment", args=[version.contract.pk]),
                           {"body": "Please confirm the PO.", "version_id": version.pk}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="comments-thread">')
    assert "Please confirm the PO." in html and "v1" in html
    comment = ContractComment.objects.get()
    assert (comment.author, comment.version_id) == (world.reviewer, version.pk)


def test_empty_comment_is_refused(client, world):
    version = world.submitted()
    client.force_login(world.rep)

    response = client.post(reverse("contracts:comment", args=[version.contract.pk]), {"body": " "},
                           HTTP_HX_REQUEST="true")

    assert "This field is required" in response.content.decode()
    assert not ContractComment.objects.exists()


def test_signed_pdf_upload_and_download_is_checked(client, world, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.rep)
    pdf = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    client.post(reverse("contracts:create"), {**form_data(world), "signed_document": pdf})
    version = ContractVersion.objects.get()
    url = reverse("contracts:document", args=[version.contract.pk, version.pk])

    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 signed"
    client.force_login(world.other_rep)
    assert client.get(url).status_code == 404


def test_upload_that_is_not_a_pdf_is_refused(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.rep)
    fake = SimpleUploadedFile("signed.pdf", b"MZ not a pdf", content_type="application/pdf")

    response = client.post(reverse("contracts:create"), {**form_data(world), "signed_document": fake})

    assert "This file is not a PDF." in response.content.decode()
    assert not Contract.objects.exists()


def test_customer_page_panel_lists_visible_contracts(client, world):
    version = world.draft()
    client.force_login(world.rep)

    html = client.get(world.customer.get_absolute_url()).content.decode()

    assert 'data-testid="customer-contracts"' in html
    assert version.contract.number in html and "12,000.00 EUR" in html
