"""Prometheus metrics of the dispatcher."""

from prometheus_client import Counter, Histogram

ATTEMPTS = Counter(
    "company_exports_webhook_attempts_total",
    "Webhook delivery attempts, by outcome: delivered, retried, gave_up.",
    ["outcome"],
)
DUE_TO_DELIVERED = Histogram(
    "company_exports_webhook_delivery_seconds",
    "Time from an event falling due to its delivery's success.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400),
)
