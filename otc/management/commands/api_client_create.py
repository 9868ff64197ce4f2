"""Create an integration client and print its token once: the token is stored only as a hash."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from otc.errors import DomainError
from otc.models import User
from otc.roles import ensure_roles
from otc.scopes import SCOPES
from otc.services import api_client_create


class Command(BaseCommand):
    help = (
        "Create an API client, e.g. `api_client_create --name CRM --scopes customers:read,customers:write`. "
        "The token is printed once and cannot be shown again. Scopes: " + ", ".join(SCOPES)
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Unique client name, e.g. CRM")
        parser.add_argument("--scopes", required=True, help="Comma-separated scopes: " + ", ".join(SCOPES))
        parser.add_argument("--throttle-rate", default="", help="Own rate limit such as 120/min (default: global)")
        parser.add_argument("--by", default="", help="Username of the administrator recorded as creator "
                            "(default: the first active superuser)")

    def handle(self, *args, name: str, scopes: str, throttle_rate: str, by: str, **options):
        scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
        if not scope_list:
            raise CommandError("Give at least one scope with --scopes.")
        if by:
            creator = User.objects.filter(username=by, is_active=True).first()
            if creator is None:
                raise CommandError(f"No active user named {by!r}.")
        else:
            creator = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if creator is None:
                raise CommandError("No superuser exists: run `manage.py createsuperuser` first or pass --by.")
        ensure_roles()  # the Integration role must carry its permissions
        try:
            client, token = api_client_create(name=name, scopes=scope_list, by=creator, throttle_rate=throttle_rate)
        except DomainError as exc:
            raise CommandError(exc.message)
        self.stdout.write(f"Created API client {client.name!r} (user {client.user.username}) "
                          f"with scopes {', '.join(client.scopes)}.")
        self.stdout.write("Token (shown once, store it now; send it as `Authorization: Bearer <token>`):")
        self.stdout.write(token)
