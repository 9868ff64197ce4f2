"""The signed PDF: attached to an editable version by someone who may edit the contract."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contracts.services import contract_document_attach
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from tests.factories.contracts import ContractVersionFactory
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db


def _pdf(name="signed.pdf", body=b"%PDF-1.7 signed contract"):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_owner_attaches_a_pdf_and_history_records_it(media):
    rep = user_with_role("Sales Rep")
    version = ContractVersionFactory(contract__sales_owner=rep)

    contract_document_attach(version_id=version.id, upload=_pdf(), by=rep)

    version.refresh_from_db()
    assert version.signed_document.name.endswith(".pdf")
    assert version.signed_document.read().startswith(b"%PDF-")
    last = version.history.first()
    assert (last.history_user, last.history_change_reason) == (rep, "signed document")


@pytest.mark.parametrize("upload", [_pdf(name="contract.docx"), _pdf(body=b"PK\x03\x04 not a pdf")])
def test_anything_but_a_pdf_is_refused(media, upload):
    rep = user_with_role("Sales Rep")
    version = ContractVersionFactory(contract__sales_owner=rep)
    with pytest.raises(ValidationFailed, match="must be a PDF"):
        contract_document_attach(version_id=version.id, upload=upload, by=rep)
    version.refresh_from_db()
    assert not version.signed_document


def test_another_rep_and_a_submitted_version_are_refused(media):
    owner, other = user_with_role("Sales Rep"), user_with_role("Sales Rep")
    version = ContractVersionFactory(contract__sales_owner=owner)
    with pytest.raises(PermissionDenied):
        contract_document_attach(version_id=version.id, upload=_pdf(), by=other)
    version.status = "submitted"
    version.save()
    with pytest.raises(InvalidTransition, match="attach documents to a draft"):
        contract_document_attach(version_id=version.id, upload=_pdf(), by=owner)
    version.refresh_from_db()
    assert not version.signed_document
