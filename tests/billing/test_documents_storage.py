"""Storing a rendered document: a refused row write leaves no orphan file in storage, and a stored
PDF is never rendered again."""

from __future__ import annotations

import pytest

import billing.pdf
from billing.models import Invoice
from tests.factories.billing import de_entity, issued

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_refused_save_removes_the_file_it_wrote(monkeypatch, media):
    invoice = issued(de_entity())

    def refuse(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Invoice, "save", refuse)
    with pytest.raises(RuntimeError, match="database went away"):
        billing.pdf.invoice_store_pdf(invoice_id=invoice.pk)
    assert [p for p in media.rglob("*") if p.is_file()] == []  # the PDF written first was removed
    assert not Invoice.objects.get(pk=invoice.pk).pdf_sha256


def test_a_stored_pdf_is_not_rendered_again(monkeypatch, media):
    invoice = issued(de_entity())
    first = billing.pdf.invoice_store_pdf(invoice_id=invoice.pk)
    monkeypatch.setattr(billing.pdf, "invoice_render_pdf", lambda inv: pytest.fail("rendered again"))
    again = billing.pdf.invoice_store_pdf(invoice_id=invoice.pk)
    assert again.pdf_sha256 == first.pdf_sha256
    assert [p.name for p in media.rglob("*.pdf")] == [f"{invoice.number}.pdf"]
