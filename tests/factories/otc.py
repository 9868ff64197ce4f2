from __future__ import annotations

import functools

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db.models import Count

from otc.models import User
from otc.roles import ensure_roles
from otc.services import api_client_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@otc.example")
    # Every factory user logs in with "pw": hashed once and inserted with the user (no second save).
    password = factory.LazyFunction(lambda: _password_hash())

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """The user of that name when there is one (a test may ask twice), else a new one: a read
        and an insert, without the savepoint Django's get_or_create wraps around the insert."""
        manager = cls._get_manager(model_class)
        return manager.filter(username=kwargs["username"]).first() or manager.create(*args, **kwargs)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            for role in extracted:
                self.groups.add(role_group(role))


@functools.cache
def _password_hash() -> str:
    return make_password("pw")


def role_group(role: str) -> Group:
    """The role's group, seeded first if it is missing or has lost its permissions (one query)."""
    group = Group.objects.filter(name=role).annotate(granted=Count("permissions")).first()
    if group is None or not group.granted:
        ensure_roles()
        group = Group.objects.get(name=role)
    return group


def user_with_role(role: str, **kwargs) -> User:
    """A fresh user holding one role, e.g. user_with_role("Controller")."""
    user = UserFactory(roles=[role], **kwargs)
    # Permission caches are per instance and filled on the first check: drop any a signal filled.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


def admin_user(**kwargs) -> User:
    return UserFactory(is_superuser=True, is_staff=True, **kwargs)


def integration_client(*, scopes: list[str], name: str = "CRM"):
    """An API client and its raw token."""
    ensure_roles()
    by = admin_user(username=f"admin-for-{name}".lower().replace(" ", "-"))
    return api_client_create(name=name, scopes=scopes, by=by)
