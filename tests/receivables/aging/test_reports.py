"""The monthly AR report pack: PDF + XLSX, the button, the beat day, the e-mail, the schedule."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from otc.errors import PermissionDenied
from otc.roles import BILLING_SPECIALIST, CONTROLLER
from receivables.aging.reports import ar_report_generate, ar_report_monthly_due, nth_business_day
from receivables.aging.services import aging_snapshot_take
from receivables.models import ArReportPack
from tests.factories.otc import user_with_role


def test_the_pack_holds_aging_kpis_top_overdue_and_exceptions(aging_book, today, settings,
                                                              django_capture_on_commit_callbacks):
    today(dt.date(2026, 7, 3))
    settings.AR_REPORT_RECIPIENTS = ["cfo@otc.example", "ar-team@otc.example"]
    aging_snapshot_take(as_of=dt.date(2026, 6, 30))
    with django_capture_on_commit_callbacks(execute=True):
        pack = ar_report_generate(month=dt.date(2026, 6, 1), by=user_with_role(CONTROLLER))
    assert pack.month == dt.date(2026, 6, 30) and bytes(pack.pdf).startswith(b"%PDF")
    book = load_workbook(io.BytesIO(bytes(pack.xlsx)))
    assert book.sheetnames == ["Aging AG1", "KPIs", "Top overdue", "Over limit", "Exceptions"]
    assert [c.value for c in book["Top overdue"][2]][:2] == ["AG1", "Acme GmbH"]
    # receivables 3,200.00 (A1 1,000, A2 500, A3 1,400, B1 300); overdue 2,200 = 68.75 %; over 90: 1,700 = 53.125 %
    assert pack.exceptions[:2] == ["AG1: 68.8 % of receivables is overdue (threshold 25 %).",
                                   "AG1: 53.1 % is more than 90 days overdue (threshold 10 %)."]
    [message] = mail.outbox
    assert message.to == ["cfo@otc.example", "ar-team@otc.example"]
    assert [a[0] for a in message.attachments] == ["ar-report-2026-06.pdf", "ar-report-2026-06.xlsx"]
    assert ArReportPack.objects.get().emailed_at is not None


def test_only_finance_managers_and_controllers_generate(aging_book, today, client):
    today(dt.date(2026, 7, 3))
    with pytest.raises(PermissionDenied):
        ar_report_generate(month=dt.date(2026, 6, 1), by=user_with_role(BILLING_SPECIALIST))
    assert not ArReportPack.objects.exists()
    client.force_login(user_with_role(BILLING_SPECIALIST))
    assert client.post(reverse("receivables:ar_report_generate"), {"month": "2026-06"}).status_code == 403
    client.force_login(user_with_role(CONTROLLER))
    client.post(reverse("receivables:ar_report_generate"), {"month": "2026-06"})
    pack = ArReportPack.objects.get()
    assert client.get(reverse("receivables:ar_report_download", args=[pack.pk, "pdf"])).content.startswith(b"%PDF")
    assert client.get(reverse("receivables:ar_reports")).status_code == 200


def test_the_beat_job_generates_on_the_business_day_once(aging_book, today, settings):
    settings.AR_REPORT_BUSINESS_DAY = 3
    assert nth_business_day(2026, 7, 3) == dt.date(2026, 7, 3)  # Wed 1, Thu 2, Fri 3
    today(dt.date(2026, 7, 2))
    assert ar_report_monthly_due() is None
    today(dt.date(2026, 7, 3))
    pack_id = ar_report_monthly_due()
    assert ArReportPack.objects.get(pk=pack_id).month == dt.date(2026, 6, 30)
    today(dt.date(2026, 7, 6))
    assert ar_report_monthly_due() is None  # already there


def test_the_schedules_are_registered_idempotently(db):
    from django_celery_beat.models import PeriodicTask

    call_command("age_receivables", "--schedule")
    call_command("age_receivables", "--schedule")
    assert set(PeriodicTask.objects.values_list("task", flat=True)) == {
        "receivables.aging_snapshot_nightly", "receivables.ar_report_monthly"}
