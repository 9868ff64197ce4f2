"""Schemathesis over every operation of the OpenAPI schema (issue 15): the schema is a contract.

Each operation is called with a token holding exactly the scope the schema names for it
(`x-required-scope`), with bounded, derandomized examples (a fixed seed). The run fails on any
5xx, any response that does not match its declared schema, content type or headers, and any
status code the operation does not declare. New endpoints are covered without edits here."""

from __future__ import annotations

import functools
import json
import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from otc.scopes import SCOPES
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory
from tests.factories.otc import integration_client

MAX_EXAMPLES = int(os.environ.get("OTC_SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance,
          response_headers_conformance]


def _raw_schema() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


@functools.cache
def _schema():
    """The schema, generated and loaded when the test runs, not when the module is collected:
    every xdist worker collects every file, and only one of them runs this test (about 1.6 s of
    CPU per worker at collection, for nothing)."""
    schema = schemathesis.openapi.from_dict(_raw_schema())
    schema.app = WSGIHandler()
    return schema


@pytest.fixture
def in_process():
    """The WSGI handler is called in the test's own thread and database transaction: keep Django
    from closing that connection at the end of each request (as its test Client does)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, in_process):
    """A token per scope (one client each), and a little data for ids to find."""
    LegalEntityFactory(code="US01")
    CustomerFactory(external_crm_id="CRM-1")
    return {scope: integration_client(scopes=[scope], name=f"Client {scope}")[1] for scope in SCOPES}


def _operations():
    return [result.ok() for result in _schema().get_all_operations()]


def _run(operation, mode: GenerationMode, token: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.slow
@pytest.mark.django_db
def test_every_operation_keeps_its_contract(tokens):
    """One test (the tokens and the database are set up once) over every operation, positive
    and negative examples; failures are collected per operation and reported together."""
    operations = _operations()
    assert len(operations) >= 25
    failures = []
    for operation in operations:
        scope = operation.definition.raw.get("x-required-scope")
        if scope not in SCOPES:
            failures.append(f"{operation.label}: names no token scope (x-required-scope)")
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, tokens[scope])
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
