"""Signed webhooks delivered from the outbox (see docs/api.md#webhooks).

`signing` builds and checks the `OTC-Signature` header; `services` manages subscriptions
(create, change, rotate the secret, enable, disable, replay); `delivery` fans outbox events out
to subscriptions and sends them with retries, ordered per object."""
