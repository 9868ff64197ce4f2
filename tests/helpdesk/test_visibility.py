"""A rep never sees another rep's customer's ticket: not on the list, in search, on the ticket
page, through an attachment, on the customer page or the dashboard, nor through the API. Agents
see their queues; the auditor reads all and changes nothing; notes stay inside finance."""

from __future__ import annotations

import pytest
from django.urls import reverse

from helpdesk.models import Ticket
from helpdesk.selectors import tickets_visible_to
from helpdesk.services import AttachmentIn, ticket_comment, ticket_file, ticket_transition
from otc.errors import PermissionDenied
from tests.factories.otc import integration_client, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(world):
    mine = ticket_file(by=world.rep, category="payment_status", subject="Kunde Eins paid?", description="x",
                       invoice_id=world.invoice.pk,
                       attachments=[AttachmentIn("remit.pdf", b"%PDF-mine", "application/pdf")])
    theirs = ticket_file(by=world.other_rep, category="payment_status", subject="Andere AG paid?", description="y",
                         invoice_id=world.other_invoice.pk,
                         attachments=[AttachmentIn("secret.pdf", b"%PDF-theirs", "application/pdf")])
    ticket_comment(ticket_id=mine.pk, by=world.agent, body="Internal: customer is late again", internal=True)
    return mine, theirs


def test_selector_scopes(world, tickets):
    mine, theirs = tickets
    assert list(tickets_visible_to(world.rep)) == [mine]
    assert set(tickets_visible_to(world.agent)) == {mine, theirs}
    assert set(tickets_visible_to(world.auditor)) == {mine, theirs}
    outsider = user_with_role("Help Desk Agent", username="not-in-queue")
    assert list(tickets_visible_to(outsider)) == []  # agents see their queues
    assert list(tickets_visible_to(world.specialist)) == []


def test_pages_search_and_attachments(client, world, tickets):
    mine, theirs = tickets
    client.force_login(world.rep)
    page = client.get(reverse("helpdesk:index"), {"status": "all"}).content.decode()
    assert mine.reference in page and theirs.reference not in page
    search = client.get(reverse("helpdesk:index"), {"q": "Andere", "status": "all"}).content.decode()
    assert theirs.reference not in search and "No tickets match" in search
    assert client.get(reverse("helpdesk:ticket", args=[theirs.reference])).status_code == 404
    detail = client.get(reverse("helpdesk:ticket", args=[mine.reference])).content.decode()
    assert "Internal: customer is late again" not in detail  # notes stay in finance
    their_file = theirs.attachments.get()
    assert client.get(reverse("helpdesk:attachment", args=[their_file.pk])).status_code == 404
    my_file = mine.attachments.get()
    response = client.get(reverse("helpdesk:attachment", args=[my_file.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-mine"
    home = client.get(reverse("home")).content.decode()
    assert 'data-panel="helpdesk-my-tickets"' in home and mine.reference in home and theirs.reference not in home
    their_customer = client.get(reverse("customers:detail", args=[world.other_customer.pk]))
    assert their_customer.status_code == 404


def test_attachment_files_live_outside_the_web_root(world, tickets, settings):
    mine, _ = tickets
    path = mine.attachments.get().file.path
    assert path.startswith(str(settings.HELPDESK_ATTACHMENT_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT)) and not path.startswith(str(settings.STATIC_ROOT))


def test_the_api_scopes_like_the_pages(api_client, world, tickets):
    mine, theirs = tickets
    api_client.force_authenticate(world.rep)
    listed = api_client.get("/api/v1/tickets/").json()
    assert [t["reference"] for t in listed["results"]] == [mine.reference]
    assert api_client.get(f"/api/v1/tickets/?customer={world.other_customer.pk}").json()["results"] == []
    assert api_client.get(f"/api/v1/tickets/{theirs.reference}/").status_code == 404
    body = api_client.get(f"/api/v1/tickets/{mine.reference}/").json()
    assert [c["body"] for c in body["comments"]] == []  # the internal note is not there
    refused = api_client.post(f"/api/v1/tickets/{theirs.reference}/comments/", {"body": "hi"}, format="json")
    assert refused.status_code == 404 and theirs.comments.count() == 0


def test_the_auditor_reads_all_and_changes_nothing(client, world, tickets):
    mine, theirs = tickets
    client.force_login(world.auditor)
    page = client.get(reverse("helpdesk:index")).content.decode()
    assert mine.reference in page and theirs.reference in page
    detail = client.get(reverse("helpdesk:ticket", args=[theirs.reference]))
    assert detail.status_code == 200
    response = client.post(reverse("helpdesk:act", args=[theirs.reference, "status"]), {"to": "resolved"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        ticket_transition(ticket_id=theirs.pk, by=world.auditor, to="resolved")
    assert Ticket.objects.get(pk=theirs.pk).status == "new"


def test_an_integration_files_on_a_reps_behalf_only_for_that_reps_customers(api_client, world):
    client_obj, token = integration_client(scopes=["tickets:read", "tickets:write"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    ok = api_client.post("/api/v1/tickets/", {
        "requester": "sam", "category": "invoice_copy", "subject": "Copy please", "description": "Lost it",
        "invoice_number": world.invoice.number}, format="json")
    assert ok.status_code == 201, ok.content
    ticket = Ticket.objects.get(reference=ok.json()["reference"])
    assert (ticket.requester, ticket.created_by, ticket.channel) == (world.rep, client_obj.user, "api")
    refused = api_client.post("/api/v1/tickets/", {
        "requester": "sam", "category": "invoice_copy", "subject": "Copy", "description": "x",
        "invoice_number": world.other_invoice.number}, format="json")
    assert refused.status_code == 400 and refused.json()["error"] == "validation_error"
    assert Ticket.objects.count() == 1
    listed = api_client.get(f"/api/v1/tickets/?customer={world.customer.pk}").json()
    assert [t["reference"] for t in listed["results"]] == [ticket.reference]
    comment = api_client.post(f"/api/v1/tickets/{ticket.reference}/comments/", {"body": "Any news?", "author": "sam"},
                              format="json")
    assert comment.status_code == 201  # a username is the deprecated spelling, still accepted
    assert (comment.json()["comments"][-1]["author"], comment.json()["comments"][-1]["author_id"]) == (
        "sam@otc.example", world.rep.pk)


def test_scopes_decide_for_integrations(api_client, world):
    _, token = integration_client(scopes=["tickets:read"], name="Reader")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.post("/api/v1/tickets/", {"requester": "sam", "category": "other", "subject": "s",
                                                    "description": "d", "customer_id": world.customer.pk}, format="json")
    assert response.status_code == 403 and Ticket.objects.count() == 0
    assert api_client.get("/api/v1/tickets/").status_code == 200


def test_a_rep_cannot_act_for_someone_else_through_the_api(api_client, world):
    api_client.force_authenticate(world.other_rep)
    response = api_client.post("/api/v1/tickets/", {"requester": "sam", "category": "other", "subject": "s",
                                                    "description": "d"}, format="json")
    assert response.status_code == 403 and Ticket.objects.count() == 0


def test_the_schema_has_the_tickets_endpoints(api_client, world):
    api_client.force_authenticate(world.agent)
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    assert "/api/v1/tickets/" in schema["paths"] and "/api/v1/tickets/{reference}/comments/" in schema["paths"]
