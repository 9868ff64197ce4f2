"""Dunning: policies and levels, the exclusion flag, the daily run and its letters.

The run (`dunning_run_start`) refuses to send while a bank account's last statement is too old
(the run is stored as refused, with the reason, so its page says why). Otherwise it splits the
customers with something overdue into chunks, one task each; a chunk composes the letters in
sets (selectors/dunning.py) and writes them with their items in bulk. A policy asking for a
preview leaves the letters as drafts until someone sends the run (`dunning_run_send`);
otherwise they are sent at once. Sending marks the letters sent (frozen from then on) and, after
commit, renders each PDF once (SHA-256 stored) and e-mails it or leaves it to print and post.

Idempotent per customer, level and date: a unique constraint on the letters decides, and the
composer skips what today's letters already cover, so a re-run sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When

from collections_app.models import (
    DunningExclusion,
    DunningLetter,
    DunningLetterItem,
    DunningLevel,
    DunningPolicy,
    DunningRun,
    DunningSkip,
)
from collections_app.selectors import dunning as sel
from customers.models import Customer
from ledger.models import LegalEntity
from otc import dates
from otc.bulk import bulk_insert_rows, bulk_insert_values
from otc.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import validate_currency

CHUNK_SIZE = 1000
ITEM_FIELDS = ("letter_id", "open_item_id", "invoice_id", "document_number", "due_date", "days_overdue", "level",
               "currency", "open_amount", "disputed", "promised", "collectible", "interest", "fee", "included",
               "excluded_reason")


def _require(by: User | None, perm: str, what: str) -> None:
    if by is not None and not by.has_perm(perm):
        raise PermissionDenied(f"Your role may not {what}.")


# --- policy -----------------------------------------------------------------------------------

POLICY_FIELDS = ("is_active", "language", "sender_name", "sender_email", "preview_required",
                 "statement_max_age_days", "reference_rate", "interest_margin", "fixed_compensation",
                 "compensation_currency")


def _check_levels(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not levels:
        raise ValidationFailed("A dunning policy needs at least one level.", fields={"levels": ["required"]})
    ordered = sorted(levels, key=lambda lvl: int(lvl["number"]))
    for expected, level in enumerate(ordered, start=1):
        if int(level["number"]) != expected:
            raise ValidationFailed(f"Levels are numbered 1, 2, 3... without gaps; level {expected} is missing.",
                                   fields={"levels": ["numbering"]})
        if level.get("channel", "email") not in DunningLevel.Channel.values:
            raise ValidationFailed(f"Level {expected}: unknown channel {level.get('channel')!r}.")
        if level.get("template", "friendly") not in DunningLevel.Template.values:
            raise ValidationFailed(f"Level {expected}: unknown template {level.get('template')!r}.")
    days = [int(lvl["days_after_due"]) for lvl in ordered]
    if any(later <= earlier for earlier, later in zip(days, days[1:], strict=False)):
        raise ValidationFailed("Each level must come more days after the due date than the one before "
                               f"(got {', '.join(map(str, days))}).", fields={"levels": ["days"]})
    return ordered


@transaction.atomic
def dunning_policy_save(*, legal_entity_id: int, by: User | None, data: dict[str, Any],
                        levels: list[dict[str, Any]], key_account_ids: list[int] | None = None) -> DunningPolicy:
    """Create or replace an entity's dunning policy and its levels (numbered 1..n, days rising)."""
    _require(by, "collections_app.manage_dunning_policy", "set dunning policies")
    ordered = _check_levels(levels)
    if not LegalEntity.objects.filter(pk=legal_entity_id).exists():
        raise NotFound(f"Legal entity {legal_entity_id} does not exist.")
    values = {k: data[k] for k in POLICY_FIELDS if k in data}
    if "compensation_currency" in values:
        values["compensation_currency"] = validate_currency(values["compensation_currency"])
    for name in ("reference_rate", "interest_margin", "fixed_compensation"):
        if name in values and Decimal(values[name]) < 0:
            raise ValidationFailed(f"{name.replace('_', ' ').capitalize()} cannot be negative.", fields={name: ["negative"]})
    policy, _ = DunningPolicy.objects.select_for_update().update_or_create(
        legal_entity_id=legal_entity_id, defaults={**values, "updated_by": by})
    policy.levels.all().delete()
    DunningLevel.objects.bulk_create([DunningLevel(
        policy=policy, number=int(lvl["number"]), days_after_due=int(lvl["days_after_due"]),
        template=lvl.get("template", "friendly"), channel=lvl.get("channel", "email"),
        escalate=bool(lvl.get("escalate")), escalate_to_id=lvl.get("escalate_to_id"),
        charge_fee=bool(lvl.get("charge_fee")), charge_interest=bool(lvl.get("charge_interest")),
    ) for lvl in ordered])
    if key_account_ids is not None:
        policy.key_accounts.set(Customer.objects.filter(pk__in=key_account_ids))
    return policy


@transaction.atomic
def dunning_exclusion_set(*, customer_id: int, by: User | None, reason: str, invoice_id: int | None = None,
                          until: dt.date | None = None) -> DunningExclusion:
    """Keep a customer (or one of its invoices) out of dunning, saying why."""
    _require(by, "collections_app.exclude_from_dunning", "exclude customers from dunning")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the customer is kept out of dunning.", fields={"reason": ["required"]})
    which = Q(invoice_id=invoice_id) if invoice_id is not None else Q(invoice__isnull=True)  # or the whole customer
    active = DunningExclusion.objects.select_for_update().filter(which, customer_id=customer_id,
                                                                lifted_at__isnull=True)
    if active.exists():
        raise Conflict("Already excluded from dunning.")
    return DunningExclusion.objects.create(customer_id=customer_id, invoice_id=invoice_id, reason=reason[:255],
                                           until=until, created_by=by)


@transaction.atomic
def dunning_exclusion_lift(*, exclusion_id: int, by: User | None) -> DunningExclusion:
    _require(by, "collections_app.exclude_from_dunning", "lift dunning exclusions")
    flag = DunningExclusion.objects.select_for_update().filter(pk=exclusion_id).first()
    if flag is None:
        raise NotFound(f"Exclusion {exclusion_id} does not exist.")
    if flag.lifted_at:
        raise InvalidTransition("This exclusion was already lifted.")
    flag.lifted_at, flag.lifted_by = dates.now(), by
    flag.save(update_fields=["lifted_at", "lifted_by"])
    return flag


# --- the run ----------------------------------------------------------------------------------

def _active_policy(legal_entity_id: int) -> DunningPolicy:
    policy = DunningPolicy.objects.filter(legal_entity_id=legal_entity_id).first()
    if policy is None or not policy.is_active:
        raise ValidationFailed("This legal entity has no active dunning policy: set one first.")
    if not policy.levels.exists():
        raise ValidationFailed("The entity's dunning policy has no levels.")
    return policy


def dunning_chunks_queue(run_id: int, chunks: list[list[int]], background: bool = False) -> None:
    """One task per chunk (after commit; demo seeding and the benchmark put their own function in its
    place to run the chunks in-process). `background` (a page, with an eager Celery: the embedded demo): the
    chunks run in a thread so the page answers at once and shows the progress bar."""
    from django.conf import settings

    from collections_app.tasks_dunning import dunning_run_chunk_task

    if background and settings.CELERY_TASK_ALWAYS_EAGER and getattr(settings, "OTC_EAGER_TASKS_IN_THREAD", False):
        import threading

        from django.db import close_old_connections

        def work() -> None:
            try:
                for ids in chunks:
                    dunning_run_chunk(run_id=run_id, customer_ids=ids)
            finally:
                close_old_connections()

        threading.Thread(target=work, name=f"dunning-run-{run_id}", daemon=True).start()
        return
    for ids in chunks:
        dunning_run_chunk_task.delay(run_id=run_id, customer_ids=ids)


@transaction.atomic(durable=True)
def dunning_run_start(*, legal_entity_id: int, by: User | None, run_date: dt.date | None = None,
                      chunk_size: int = CHUNK_SIZE, background: bool = False,
                      customer_ids: list[int] | None = None) -> DunningRun:
    """Start the entity's dunning run for `run_date` (default today); `customer_ids` limits it to
    those customers (a reminder sent from a customer's collections page), under the same rules. A
    refused run is stored with the reason and sends nothing."""
    _require(by, "collections_app.run_dunning", "start dunning runs")
    run_date = run_date or dates.today()
    policy = _active_policy(legal_entity_id)
    run = DunningRun.objects.create(legal_entity_id=legal_entity_id, run_date=run_date, started_by=by,
                                    preview=policy.preview_required)
    stale = sel.stale_statements(legal_entity_id=legal_entity_id, as_of=run_date,
                                 max_age_days=policy.statement_max_age_days)
    if stale:
        run.status, run.finished_at = DunningRun.Status.REFUSED, dates.now()
        run.refusal = ("Not sent: a customer may have paid since the last imported bank statement. "
                       + "; ".join(stale) + ". Import the statements, then start the run again.")
        run.save(update_fields=["status", "finished_at", "refusal"])
        return run
    levels = sel.policy_levels(policy)
    ids = sel.due_customer_ids(legal_entity_id=legal_entity_id, as_of=run_date, first_days=levels[0].days_after_due)
    if customer_ids is not None:
        ids = [pk for pk in ids if pk in set(customer_ids)]
    run.customers_total = len(ids)
    run.save(update_fields=["customers_total"])
    if not ids:
        _finish(run.pk)
        run.refresh_from_db()
        return run
    chunks = [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]
    transaction.on_commit(lambda: dunning_chunks_queue(run.pk, chunks, background))
    return run


def _finish(run_id: int) -> None:
    """Close the run once every customer was processed: preview (letters waiting), or done. One
    conditional UPDATE, so of chunks finishing together exactly the last one closes it."""
    status = Case(When(preview=True, letters_created__gt=0, then=Value(DunningRun.Status.PREVIEW)),
                  default=Value(DunningRun.Status.DONE))
    DunningRun.objects.filter(pk=run_id, status=DunningRun.Status.RUNNING,
                              customers_done__gte=F("customers_total")).update(status=status, finished_at=dates.now())


def _letter_rows(run: DunningRun, policy: DunningPolicy, specs: list[sel.LetterSpec],
                 customers: dict[int, Customer], status: str) -> list[DunningLetter]:
    from billing.snapshots import bill_to_snapshot, seller_snapshot

    entity = policy.legal_entity
    sender = {**seller_snapshot(entity), "sender_name": policy.sender_name or entity.legal_name,
              "sender_email": policy.sender_email or entity.email}
    return [DunningLetter(
        run=run, legal_entity_id=entity.pk, customer_id=spec.customer_id, level=spec.level.number,
        letter_date=run.run_date, status=status, channel=spec.level.channel, template=spec.level.template,
        language=policy.language, escalate_to_id=spec.level.escalate_to_id if spec.level.escalate else None,
        sender=sender, addressee={**bill_to_snapshot(customers[spec.customer_id]), "name": customers[spec.customer_id].name},
        totals=spec.totals,
    ) for spec in specs]


def dunning_run_chunk(*, run_id: int, customer_ids: list[int]) -> int:
    """Compose and write one chunk's letters (and skips); returns the letters written. Safe to
    retry: customers already reminded today at their level are skipped by the composer."""
    try:
        return _chunk(run_id, customer_ids)
    except IntegrityError:
        # Another run of the same day wrote some of these customers' letters first (the unique
        # constraint decided): compose again, now skipping what that run sent.
        return _chunk(run_id, customer_ids)


def _chunk(run_id: int, customer_ids: list[int]) -> int:
    # Chunks of one run run in parallel (no lock on the run or the policy while composing); the
    # counters move with F() and the last chunk closes the run.
    with transaction.atomic():
        run = DunningRun.objects.get(pk=run_id)
        if run.status != DunningRun.Status.RUNNING:
            return 0
        policy = DunningPolicy.objects.select_related("legal_entity").get(legal_entity_id=run.legal_entity_id)
        levels = sel.policy_levels(policy)
        specs, skips = sel.compose(policy=policy, levels=levels, as_of=run.run_date, customer_ids=customer_ids)
        customers = Customer.objects.in_bulk([s.customer_id for s in specs])
        status = DunningLetter.Status.DRAFT if run.preview else DunningLetter.Status.SENT
        # COPY on PostgreSQL (otc.bulk): a chunk writes about ten item rows per letter.
        letters = bulk_insert_rows(_letter_rows(run, policy, specs, customers, status))
        bulk_insert_values(DunningLetterItem, ITEM_FIELDS, [
            (letter.pk, i.open_item_id, i.invoice_id, i.document_number, i.due_date, i.days_overdue, i.level,
             i.currency, i.open_amount, i.disputed, i.promised, i.collectible, i.interest, i.fee, i.included,
             i.excluded_reason[:255])
            for letter, spec in zip(letters, specs, strict=True) for i in spec.items])
        bulk_insert_values(DunningSkip, ("run_id", "customer_id", "code", "reason"),
                           [(run.pk, s.customer_id, s.code, s.reason[:400]) for s in skips])
        sent = 0 if run.preview else len(letters)
        DunningRun.objects.filter(pk=run_id).update(
            customers_done=F("customers_done") + len(customer_ids), letters_created=F("letters_created") + len(letters),
            letters_sent=F("letters_sent") + sent, customers_skipped=F("customers_skipped") + len(skips))
        _finish(run_id)
        if sent:
            ids = [letter.pk for letter in letters]
            transaction.on_commit(lambda: dunning_letters_queue(ids))
    return len(letters)


def dunning_letters_queue(letter_ids: list[int]) -> None:
    """The sent letters' PDFs and e-mails, as tasks on the documents queue, 200 letters a task (after
    commit; demo seeding, the benchmark and tests put their own function in its place)."""
    from collections_app.tasks_dunning import dunning_letters_publish_task

    for i in range(0, len(letter_ids), 200):
        dunning_letters_publish_task.delay(letter_ids=letter_ids[i:i + 200])


@transaction.atomic(durable=True)
def dunning_run_send(*, run_id: int, by: User) -> DunningRun:
    """Send a previewed run: its draft letters become sent (frozen) and go out after commit."""
    _require(by, "collections_app.run_dunning", "send dunning letters")
    run = DunningRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"Dunning run {run_id} does not exist.")
    if run.status != DunningRun.Status.PREVIEW:
        raise InvalidTransition(f"{run} is {run.get_status_display().lower()}: only a previewed run is sent.")
    drafts = DunningLetter.objects.filter(run=run, status=DunningLetter.Status.DRAFT)
    ids = list(drafts.order_by("pk").values_list("pk", flat=True))
    drafts.update(status=DunningLetter.Status.SENT)
    run.status, run.sent_by, run.letters_sent = DunningRun.Status.DONE, by, len(ids)
    run.save(update_fields=["status", "sent_by", "letters_sent"])
    transaction.on_commit(lambda: dunning_letters_queue(ids))
    return run


@transaction.atomic
def dunning_letter_cancel(*, letter_id: int, by: User) -> DunningLetter:
    """Take one draft letter out of a previewed run (it is then never sent)."""
    _require(by, "collections_app.run_dunning", "change dunning runs")
    letter = DunningLetter.objects.select_for_update().filter(pk=letter_id).first()
    if letter is None:
        raise NotFound(f"Letter {letter_id} does not exist.")
    if letter.status != DunningLetter.Status.DRAFT:
        raise InvalidTransition("Only a draft letter of a previewed run can be cancelled; a sent letter stays.")
    letter.status = DunningLetter.Status.CANCELLED
    letter.save(update_fields=["status"])
    DunningRun.objects.filter(pk=letter.run_id).update(letters_created=F("letters_created") - 1)
    return letter


def dunning_daily(*, run_date: dt.date | None = None) -> list[int]:
    """The beat job: one run per entity with an active policy. A second call the same day
    creates another run that sends nothing already sent (idempotent per customer, level, date)."""
    runs = []
    for entity_id in (DunningPolicy.objects.filter(is_active=True, levels__isnull=False)
                      .values_list("legal_entity_id", flat=True).distinct().order_by("legal_entity_id")):
        try:
            runs.append(dunning_run_start(legal_entity_id=entity_id, by=None, run_date=run_date).pk)
        except IntegrityError:  # pragma: no cover - a concurrent run wrote the same letters first
            continue
    return runs
