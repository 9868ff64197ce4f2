"""Demo users: one or more per role, all with the password DEMO_PASSWORD."""

from __future__ import annotations

from django.contrib.auth.models import Group

from otc import roles
from otc.models import User

DEMO_PASSWORD = "demo"

# (username, first, last, title, role or None for the superuser)
DEMO_USERS: list[tuple[str, str, str, str, str | None]] = [
    ("admin", "Ada", "Admin", "Finance systems administrator", None),
    ("controller", "Carla", "Conti", "Controller", roles.CONTROLLER),
    ("manager", "Mark", "Meyer", "Finance manager", roles.FINANCE_MANAGER),
    ("reviewer", "Rita", "Ramos", "Contract reviewer", roles.CONTRACT_REVIEWER),
    ("billing", "Bruno", "Becker", "Billing specialist", roles.BILLING_SPECIALIST),
    ("cashapp", "Chen", "Cho", "Cash application specialist", roles.CASH_APPLICATION),
    ("collector", "Cole", "Carter", "Collector", roles.COLLECTOR),
    ("helpdesk", "Hana", "Holm", "Help desk agent", roles.HELP_DESK_AGENT),
    ("auditor", "Aziz", "Amari", "External auditor", roles.AUDITOR),
    ("sales1", "Sam", "Sorensen", "Account executive", roles.SALES_REP),
    ("sales2", "Sofia", "Silva", "Account executive", roles.SALES_REP),
    ("sales3", "Steve", "Stone", "Account executive", roles.SALES_REP),
]


def seed_users() -> dict[str, User]:
    users = {}
    for username, first, last, title, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "job_title": title, "email": f"{username}@otc.example"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            if role is None:
                user.is_superuser = user.is_staff = True
            user.save()
        if role:
            user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


def seed_integration_user() -> User:
    """The CRM's integration user (no password: it authenticates with an API token); it posts
    the contracts' monthly usage."""
    user, created = User.objects.get_or_create(
        username="crm-integration",
        defaults={"first_name": "CRM", "last_name": "integration", "kind": User.Kind.INTEGRATION,
                  "email": "crm@otc.example"},
    )
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=roles.INTEGRATION))
    return user


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, username, password) for the README and the demo banner."""
    return [(role or "Administrator (superuser)", username, DEMO_PASSWORD) for username, *_rest, role in DEMO_USERS]
