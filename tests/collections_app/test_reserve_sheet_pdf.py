"""The calculation sheet of a posted reserve run is a stored, immutable PDF with its SHA-256:
rendered once after the posting commits, served from storage with the hash checked (a mismatch
is a 500 and an integrity alert, never the altered bytes); unposted runs render on the fly."""

import datetime as dt
import hashlib
import logging
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError

from collections_app.models import ReserveRun
from collections_app.services import reserve as svc
from otc.errors import DomainError, InvalidTransition
from otc.models import ApprovalLimit
from otc.roles import CONTROLLER, FINANCE_MANAGER
from tests.factories.collections_reserve import item_in_bucket, reserve_entity, snapshot
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role

D = Decimal
AS_OF = dt.date(2026, 6, 30)


def _book(code):
    from django.contrib.auth.models import Group

    entity = reserve_entity(code)
    item_in_bucket(entity, CustomerFactory(), "4000.00", as_of=AS_OF, days_past_due=40, currency="EUR")
    snapshot(entity, AS_OF)
    controller, manager = user_with_role(CONTROLLER), user_with_role(FINANCE_MANAGER)
    svc.provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="matrix",
                                by=controller, rates=[{"bucket": b, "rate": "0.05"} for b in range(5)])
    ApprovalLimit.objects.create(kind="reserve", role=Group.objects.get(name=CONTROLLER), currency="EUR",
                                 max_amount=D("1000000"))
    return entity, controller, manager


@pytest.fixture
def book(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return _book("SHT")


def _post(entity, controller, manager, capture):
    run = svc.reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    run = svc.reserve_run_approve(run_id=run.id, by=controller)
    with capture(execute=True):
        svc.reserve_run_post(run_id=run.id, by=controller)
    return ReserveRun.objects.get(pk=run.id)


def test_posting_stores_the_sheet_once_and_downloads_serve_the_stored_bytes(
        book, client, django_capture_on_commit_callbacks, monkeypatch):
    entity, controller, manager = book
    client.force_login(manager)
    proposed = svc.reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    preview = client.get(f"/collections/reserve/runs/{proposed.pk}/sheet.pdf")
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    proposed.refresh_from_db()
    assert proposed.sheet_pdf_sha256 == "" and not proposed.sheet_pdf  # an unposted run is not stored
    with pytest.raises(InvalidTransition):
        svc.reserve_run_store_sheet(run_id=proposed.pk)

    run = _post(entity, controller, manager, django_capture_on_commit_callbacks)
    with run.sheet_pdf.open("rb") as handle:
        stored = handle.read()
    assert stored.startswith(b"%PDF") and run.sheet_pdf_sha256 == hashlib.sha256(stored).hexdigest()

    # downloads serve the stored bytes and never render again
    def no_render(*args, **kwargs):
        raise AssertionError("a posted run's sheet is not rendered again")

    monkeypatch.setattr("collections_app.exports_reserve.sheet_pdf", no_render)
    for _ in range(2):
        served = client.get(f"/collections/reserve/runs/{run.pk}/sheet.pdf")
        assert served.status_code == 200 and served.content == stored
    # storing again is a no-op; changing the stored sheet through the model is refused
    assert svc.reserve_run_store_sheet(run_id=run.pk).sheet_pdf_sha256 == run.sheet_pdf_sha256
    run.sheet_pdf_sha256 = "0" * 64
    with pytest.raises(DomainError, match="stored once"):
        run.save(update_fields=["sheet_pdf_sha256"])
    # reversing keeps the posted sheet
    svc.reserve_run_reverse(run_id=run.pk, by=controller, reason="wrong rates")
    assert client.get(f"/collections/reserve/runs/{run.pk}/sheet.pdf").content == stored


def test_a_tampered_sheet_answers_500_and_logs(book, client, django_capture_on_commit_callbacks, caplog):
    entity, controller, manager = book
    run = _post(entity, controller, manager, django_capture_on_commit_callbacks)
    with open(run.sheet_pdf.path, "r+b") as handle:
        handle.seek(20)
        handle.write(b"EDITED")
    client.force_login(manager)
    with caplog.at_level(logging.ERROR, logger="otc.documents"):
        response = client.get(f"/collections/reserve/runs/{run.pk}/sheet.pdf")
    assert response.status_code == 500 and b"%PDF" not in response.content
    assert any("DOCUMENT INTEGRITY ALERT" in r.getMessage() and f"reserve run {run.pk}" in r.getMessage()
               for r in caplog.records)


def test_a_failed_render_after_posting_keeps_the_posting_and_the_first_download_stores_it(
        book, client, django_capture_on_commit_callbacks, monkeypatch):
    entity, controller, manager = book
    real = __import__("collections_app.exports_reserve", fromlist=["sheet_pdf"]).sheet_pdf

    def broken(*args, **kwargs):
        raise OSError("renderer down")

    monkeypatch.setattr("collections_app.exports_reserve.sheet_pdf", broken)
    run = _post(entity, controller, manager, django_capture_on_commit_callbacks)
    assert (run.status, run.sheet_pdf_sha256) == ("posted", "")
    monkeypatch.setattr("collections_app.exports_reserve.sheet_pdf", real)
    client.force_login(manager)
    served = client.get(f"/collections/reserve/runs/{run.pk}/sheet.pdf")
    run.refresh_from_db()
    assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == run.sheet_pdf_sha256 != ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_lets_the_sheet_be_stored_once_and_then_freezes_it(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    entity, controller, manager = _book("SHP")
    run = svc.reserve_run_prepare(legal_entity_id=entity.id, as_of=AS_OF, by=manager)
    run = svc.reserve_run_approve(run_id=run.id, by=controller)
    svc.reserve_run_post(run_id=run.id, by=controller)  # commits: the sheet is stored after it
    run = ReserveRun.objects.get(pk=run.id)
    assert len(run.sheet_pdf_sha256) == 64
    for sql in (f"UPDATE collections_app_reserverun SET sheet_pdf_sha256 = 'x' WHERE id = {run.id}",
                f"UPDATE collections_app_reserverun SET sheet_pdf = 'other.pdf' WHERE id = {run.id}",
                f"UPDATE collections_app_reserverun SET sheet_pdf_sha256 = 'x', required_total = 1 WHERE id = {run.id}"):
        with pytest.raises(InternalError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    svc.reserve_run_reverse(run_id=run.id, by=controller, reason="wrong rates")
    assert ReserveRun.objects.get(pk=run.id).sheet_pdf_sha256 == run.sheet_pdf_sha256
