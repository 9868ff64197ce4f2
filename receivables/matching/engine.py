"""The cash-application pipeline: who paid, for which invoices, and how sure we are.

Scoring (docs/cash-application.md, "Matching rules", says the same for finance users):

* A hypothesis found by **invoice numbers** is scored as a noisy-OR of independent pieces of
  evidence, ``1 - prod(1 - w)``: the number (full ``US01-INV-2026-000123`` 0.85, year and
  sequence 0.80, "Inv 123" 0.55, a bare "000123" 0.35, someone else's prefix 0.40; a one-edit typo
  keeps 45% of its form's weight), the amount (the allocated invoices sum exactly to the receipt
  0.80, two ways to do so 0.50, short within tolerance 0.60, overpaid 0.30, partial 0) and the
  payer (identified as the invoice's customer: 0.9 x that identification's confidence; else the
  payer's name resembling the customer's: 0.60 from 90, 0.30 from 80).
* A hypothesis found by **amount alone** needs an identified customer and is scored
  ``identification x choice``: one open invoice of exactly the amount 0.97, two or more 0.50, a
  unique combination 0.95 (0.75 when the search bound was hit, 0.55 when two exist), the whole
  balance 0.95, one invoice short within tolerance 0.85, overpaying the whole balance 0.60, oldest
  first as a last resort 0.30.
* Identification: given 1.0, payer account 0.97, learned alias 0.95 (both 0.6 when shared by
  several customers), fuzzy name 0.96 when the normalised names are equal, 0.93 when unambiguous
  and close on both token_set and token_sort, else 0.30-0.70.
* Vetoes and caps: an invoice of a customer other than the one the payer was identified as
  keeps 35% of its score when the payer's account, alias or given id points elsewhere (at 0.97;
  proportionally milder for weaker identifications, none below 0.5) and about 72% when only a
  fuzzy name does; an overpayment of more than 10% is no amount evidence; a typo without an agreeing amount is capped at 0.50; no
  agreeing amount and less than a year-and-sequence number is capped at 0.85; the best suggestion
  loses ``(competitor - 0.5)`` of its score when a different suggestion scores >= 0.60 (and the
  competitor likewise).

The rules live by family: who paid in :mod:`.payer`, invoice numbers named in the remittance in
:mod:`.references`, amounts alone in :mod:`.amounts`, ranking and the hard rules in :mod:`.ranking`;
this module composes them.
"""

from __future__ import annotations

from otc.money import quantize

from .amounts import by_amount
from .common import MAX_SUGGESTIONS, MAX_VARIANT_KEYS, NUMBER_WEIGHT, clean_invoices
from .numbers import extract_invoice_numbers, typo_variants
from .payer import Identified, Payer, identify_payer
from .ranking import hard_rules, rank
from .references import by_numbers, cut_tail_hits, number_hits
from .run import Hit, Run
from .types import ZERO, Book, MatchPolicy, NumberKey, ReceiptFacts, Suggestion

__all__ = ["Identified", "Payer", "identify_payer", "match", "match_and_identify"]


def match(receipt: ReceiptFacts, book: Book, policy: MatchPolicy = MatchPolicy()) -> list[Suggestion]:  # noqa: B008
    """Ranked suggestions for placing `receipt`, best first; [] when nothing is plausible.

    The caller applies the first automatically when its score reaches ``policy.auto_apply_threshold``.
    """
    return match_and_identify(receipt, book, policy)[0]


def match_and_identify(receipt: ReceiptFacts, book: Book, policy: MatchPolicy = MatchPolicy()  # noqa: B008
                       ) -> tuple[list[Suggestion], Identified | None]:
    """`match`, and the payer identified with confidence (>= 0.9), if any."""
    amount = quantize(receipt.amount, receipt.currency)
    if amount <= 0:
        return [], None
    run = Run(receipt, book, policy, amount, identify_payer(receipt, book))
    return _match(run), run.payer.strong


def _match(run: Run) -> list[Suggestion]:
    receipt, book, amount = run.receipt, run.book, run.amount
    entity, currency = receipt.legal_entity_id, receipt.currency

    # 1. invoice numbers as written, then one-edit typos of them when nothing agreed with the amount
    keys = extract_invoice_numbers(receipt.remittance)
    seen: set[int] = set()
    # open items without invoices (opening balances "LEG-C00042-1", manual debits): named as written
    finder = getattr(book, "items_by_text", None)
    item_hits = [Hit(item, NumberKey(sequence=item.id, raw=item.number), NUMBER_WEIGHT["full"],
                      f"Remittance names open item {item.number}")
                 for item in clean_invoices(finder(entity, currency, receipt.remittance) if finder else [], currency)
                 if item.legal_entity_id == entity]
    tail_hits = cut_tail_hits(run)
    if keys or item_hits or tail_hits:
        hits = (number_hits(run, keys, book.invoices_by_numbers(entity, currency, keys)) if keys else []) + item_hits
        hits += [h for h in tail_hits if h.invoice.id not in {x.invoice.id for x in hits}]
        seen = {h.invoice.id for h in hits}
        by_numbers(run, hits, typo=False)
        if not any(c.amount_agrees for c in run.candidates):
            variants: list[NumberKey] = []
            for key in keys:
                if key.form != "bare":
                    variants += typo_variants(key)
            variants = variants[:MAX_VARIANT_KEYS]
            if variants:
                found = [inv for inv in book.invoices_by_numbers(entity, currency, variants) if inv.id not in seen]
                typo_hits = number_hits(run, variants, found)
                if typo_hits:
                    # the named invoices of a customer stay in its pool: "INV 123, 152" for 123 + 125
                    named = [h for h in hits if h.invoice.customer_id in {t.invoice.customer_id for t in typo_hits}]
                    by_numbers(run, typo_hits + named, typo=True)

    # 2, 3, 5. amounts against the customers the payer (or a named invoice) points at
    settled = {c.customer_id for c in run.candidates if c.amount_agrees and c.score >= 0.5}
    who: list[Identified] = [c for c in run.payer.candidates if c.confidence >= 0.3][:2]
    if not who:
        by_number: dict[int, float] = {}
        for cand in run.candidates:
            if cand.customer_id is not None:
                by_number[cand.customer_id] = max(by_number.get(cand.customer_id, 0.0), cand.score)
        who = [Identified(cid, round(conf * 0.8, 3), "customer_by_number",
                          "Customer of the invoice named in the remittance")
               for cid, conf in sorted(by_number.items(), key=lambda kv: -kv[1])[:2] if conf >= 0.5]
    mismatch: Identified | None = None
    for person in who:
        if person.customer_id in settled:
            continue
        limit = 200
        fetched = book.open_invoices(person.customer_id, entity, currency, limit=limit)
        open_invoices = clean_invoices(fetched, currency)
        if not open_invoices:
            if mismatch is None and book.currency_mismatch(person.customer_id, entity, currency):
                mismatch = person
            continue
        by_amount(run, person, open_invoices, truncated=len(fetched) >= limit)

    suggestions = hard_rules(run, rank(run))
    if mismatch is not None and not any(s.score >= 0.5 for s in suggestions):
        refused = Suggestion(
            mismatch.customer_id, (), ZERO, ZERO, 0.0, ("currency_mismatch", mismatch.rule),
            (f"Receipt in {currency}; the customer has open invoices only in other currencies: not matched",
             mismatch.reason), unapplied=amount)
        suggestions = [refused, *[s for s in suggestions if s.score > 0]][:MAX_SUGGESTIONS]
    return suggestions
