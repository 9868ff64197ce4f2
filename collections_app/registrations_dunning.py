"""Dunning, credit holds and placements plug into the navigation and the registry here."""

from __future__ import annotations

from typing import Any

from otc.registry import NavItem, registry


def register() -> None:
    registry.register_nav(NavItem("Dunning", "collections_app:dunning", "collections_app.view_dunningrun", order=52,
                                  section="Collections"))
    registry.register_nav(NavItem("Credit holds", "collections_app:credit_holds", "collections_app.view_credithold", order=53,
                                  section="Collections"))
    registry.register_nav(NavItem("Agency and legal", "collections_app:placements", "collections_app.view_placement",
                                  order=54, section="Collections"))
    register_credit_holds()
    registry.register_hook("customer_collections_hold", customer_hold)
    registry.register_hook("collections_timeline", dunning_timeline)
    register_panel()


def register_credit_holds() -> None:
    from collections_app.selectors.credit_holds import active_holds

    registry.register_credit_hold_reader(active_holds)


def customer_hold(*, customer_id: int) -> dict[str, Any] | None:
    """The collections API's `hold`: the customer's active credit hold (the oldest), or None."""
    from collections_app.models import CreditHold

    hold = (CreditHold.objects.filter(customer_id=customer_id, status=CreditHold.Status.ACTIVE)
            .select_related("legal_entity").order_by("placed_at", "id").first())
    if hold is None:
        return None
    return {"reason": hold.reason, "since": hold.placed_at.date().isoformat(), "legal_entity": hold.legal_entity.code}


def dunning_timeline(*, customer_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """Reminders, credit holds and placements on the customer's collections timeline."""
    from django.urls import reverse

    from collections_app.models import CreditHold, DunningLetter, Placement

    out: list[dict[str, Any]] = []
    letters = (DunningLetter.objects.filter(customer_id=customer_id).exclude(status=DunningLetter.Status.CANCELLED)
               .select_related("legal_entity").order_by("-letter_date", "-id")[:limit])
    for letter in letters:
        out.append({"at": letter.created_at, "kind": "letter", "by": None,
                    "title": f"Reminder level {letter.level} ({letter.legal_entity.code}, {letter.get_channel_display()},"
                             f" {letter.get_status_display().lower()})",
                    "detail": letter.delivery_detail, "url": reverse("collections_app:dunning_letter", args=[letter.pk])})
    for hold in CreditHold.objects.filter(customer_id=customer_id).select_related("placed_by", "released_by")[:limit]:
        out.append({"at": hold.placed_at, "kind": "credit_hold", "by": hold.placed_by,
                    "title": "Put on credit hold", "detail": hold.reason,
                    "url": reverse("collections_app:credit_holds")})
        if hold.released_at:
            out.append({"at": hold.released_at, "kind": "credit_hold", "by": hold.released_by,
                        "title": "Released from credit hold", "detail": hold.release_reason,
                        "url": reverse("collections_app:credit_holds") + "?status=released"})
    for placement in Placement.objects.filter(customer_id=customer_id).select_related("agency", "placed_by")[:limit]:
        out.append({"at": placement.created_at, "kind": "placement", "by": placement.placed_by,
                    "title": f"Placed with {placement.agency.name} ({placement.get_status_display().lower()})",
                    "detail": placement.note, "url": reverse("collections_app:placement", args=[placement.pk])})
    return out


def customer_panel_context(request: Any, customer: Any) -> dict[str, Any] | None:
    """The customer page's "Dunning and credit" panel: holds, exclusions, placements, last reminders."""
    from collections_app.models import CreditHold, DunningExclusion, DunningLetter, Placement

    return {
        "customer": customer,
        "holds": list(CreditHold.objects.filter(customer=customer, status="active").select_related("legal_entity")),
        "exclusions": list(DunningExclusion.objects.filter(customer=customer, lifted_at__isnull=True)
                           .select_related("invoice")),
        "placements": list(Placement.objects.filter(customer=customer).exclude(status__in=Placement.ENDED)
                           .select_related("agency")),
        "letters": list(DunningLetter.objects.filter(customer=customer).exclude(status="cancelled")
                        .select_related("legal_entity").order_by("-letter_date", "-id")[:3]),
    }


def register_panel() -> None:
    from otc.registry import Panel

    registry.register_customer_panel(Panel(
        key="collections-dunning", title="Dunning and credit", template="collections_app/dunning/panel_customer.html",
        context=customer_panel_context, permission="collections_app.view_dunningletter", order=31))
