from itertools import groupby

from django.http import HttpRequest

from .registry import registry, visible


def navigation(request: HttpRequest) -> dict:
    """The navigation bar: items of the "main" section one by one; the items of any other section
    (Collections, Settings) under one dropdown named after it, placed where its first item sorts."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = visible(user, registry.nav)
    sections: dict[str, list] = {}
    for item in items:
        sections.setdefault(item.section, []).append(item)
    entries: list[dict] = []
    placed: set[str] = set()
    for section, group in groupby(items, key=lambda i: i.section):
        if section == "main":
            entries += [{"item": item} for item in group]
        elif section not in placed:
            placed.add(section)
            entries.append({"label": section, "items": sections[section]})
    return {"nav_items": entries}
