"""The signed contract PDF attached to an editable version."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.history import history_stamp
from otc.models import User

from .common import lock_versions

MAX_BYTES = 10 * 1024 * 1024


@transaction.atomic(durable=True)
def contract_document_attach(*, version_id: int, upload: UploadedFile | None, by: User) -> None:
    """Store the signed PDF on an editable version (or clear it with `upload=None`); the change
    is in the version's history. Only real PDFs up to 10 MB are accepted."""
    version = lock_versions([version_id])[0]
    if not by.has_perm("contracts.edit_contract", version.contract):
        raise PermissionDenied("You may not change this contract.")
    if not version.is_editable:
        raise InvalidTransition(f"Version {version.version} is {version.get_status_display().lower()}: "
                                "attach documents to a draft or an amendment.")
    if upload is None:
        version.signed_document = ""
    else:
        head = upload.read(5)
        upload.seek(0)
        name = upload.name or ""
        if not name.lower().endswith(".pdf") or head != b"%PDF-":
            raise ValidationFailed("The signed contract must be a PDF file.", fields={"signed_document": ["not a PDF"]})
        if (upload.size or 0) > MAX_BYTES:
            raise ValidationFailed("The signed contract is larger than 10 MB.", fields={"signed_document": ["too large"]})
        version.signed_document.save(name, upload, save=False)
    history_stamp(version, by=by, reason="signed document")
    version.save(update_fields=["signed_document", "updated_at"])
