"""`manage.py documents_check`: beside `ledger_check`, the issued documents' integrity: every
stored PDF (and VOID copy) against its SHA-256, every issued invoice and credit note against its
journal entry. Exit non-zero on any problem (for operators and CI)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ledger.models import LegalEntity

from ...integrity import pdf_problems, posting_problems


class Command(BaseCommand):
    help = "Check stored document PDFs against their SHA-256 and issued documents against their postings."

    def add_arguments(self, parser):
        parser.add_argument("--entity", help="Only this legal entity code.")

    def handle(self, *args, entity: str | None = None, **options):
        entity_id = None
        if entity:
            entity_id = LegalEntity.objects.filter(code=entity).values_list("pk", flat=True).first()
            if entity_id is None:
                raise CommandError(f"No legal entity {entity!r}.")
        problems = 0
        self.stdout.write("Stored PDFs against their SHA-256:")
        for problem in pdf_problems(legal_entity_id=entity_id):
            problems += 1
            self.stdout.write(f"  {problem.document}: {problem.message}  <-- MISMATCH")
        self.stdout.write("Issued documents against their postings:")
        for problem in posting_problems(legal_entity_id=entity_id):
            problems += 1
            self.stdout.write(f"  {problem.document}: {problem.message}  <-- DIFFERENCE")
        if problems:
            raise CommandError(f"{problems} document problem(s) found.")
        self.stdout.write(self.style.SUCCESS("Documents intact and in agreement with the ledger."))
