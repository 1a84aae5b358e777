"""Signed webhooks for finished exports: endpoints, the delivery outbox, and the dispatcher.

The API manages endpoints and queues deliveries (`endpoints`, `outbox`) in PostgreSQL; the
dispatcher (`export-webhooks`) sends them, signed per the Standard Webhooks specification, to
addresses the `addresses` policy allows.
"""
