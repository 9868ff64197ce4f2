"""Demo bad-debt reserve: each entity's policy derives its loss rates by the roll-rate method from
the demo's twelve month-end aging snapshots (demo/aging.py), with the Controller's judgment for the
last bucket (no write-off history yet: half of what is over 120 days is expected lost) and, for
DE01 whose DSO keeps rising, a forward-looking factor of 1.25. Driftwood Logistics, whose legacy
invoice has slid past 90 days, is placed with a collection agency: a 50 % specific reserve, out of
the matrix. Last month's reserve is prepared by the finance manager, approved and posted by the
Controller (its calculation sheet is on the run's page as PDF and Excel)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from collections_app.models import ProvisionPolicy, ReserveRun
from collections_app.services.reserve import (
    provision_policy_create,
    reserve_run_approve,
    reserve_run_post,
    reserve_run_prepare,
    specific_reserve_create,
)
from customers.models import Customer
from ledger.models import LegalEntity
from otc.models import User

from .aging import RISING_DSO_ENTITY, STORY_CUSTOMER, months_before


def seed_reserve(*, users: dict[str, User], today: dt.date) -> dict[str, object]:
    controller, manager = users["controller"], users["manager"]
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    effective = months_before(today, 12).replace(day=1)
    for entity in LegalEntity.objects.order_by("code"):
        if ProvisionPolicy.objects.filter(legal_entity=entity).exists():
            continue
        rising = entity.code == RISING_DSO_ENTITY
        provision_policy_create(
            legal_entity_id=entity.id, effective_date=effective, method="roll_rate", lookback_months=12,
            terminal_rate=Decimal("0.5"), by=controller,
            overlay_factor=Decimal("1.25") if rising else Decimal("1"),
            overlay_reason="DSO has risen all year: collections expected to slow further" if rising else "",
            note="Roll rates from the last twelve month-end snapshots; over 120 days: 50 % expected lost "
                 "(Controller's judgment until there is write-off history).", rates=[])
    story = Customer.objects.filter(legal_name=STORY_CUSTOMER).first()
    us01 = LegalEntity.objects.get(code="US01")
    if story is not None and not story.specific_reserves.exists():
        specific_reserve_create(legal_entity_id=us01.id, customer_id=story.id, percent=Decimal("50"),
                                reason="agency", effective_from=last_month_end.replace(day=1), by=controller,
                                note="Legacy invoice LEG-STORY-1 unpaid for months; placed with a collection agency")
    posted = []
    for entity in LegalEntity.objects.order_by("code"):
        if ReserveRun.objects.filter(legal_entity=entity, as_of=last_month_end, status="posted").exists():
            continue
        run = reserve_run_prepare(legal_entity_id=entity.id, as_of=last_month_end, by=manager)
        run = reserve_run_approve(run_id=run.id, by=controller)
        posted.append(reserve_run_post(run_id=run.id, by=controller))
    return {"posted": len(posted), "month": last_month_end}
