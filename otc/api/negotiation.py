"""Content negotiation for document downloads (PDF, UBL, CSV): the view's one renderer answers
whatever `Accept` says, so a client asking for application/json still gets the file; an error
is JSON (otc.api.errors)."""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation


class DocumentNegotiation(BaseContentNegotiation):
    """A document download answers its file whatever `Accept` says; an error is JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
