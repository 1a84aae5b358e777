"""Standard Webhooks signatures: `webhook-id`, `webhook-timestamp`, `webhook-signature`.

The library signs; this module only makes secrets and the headers. While a rotated-out secret is
still valid, both secrets sign (the header carries one `v1,<sig>` per secret, space-separated),
so a receiver verifies with whichever it knows.
"""

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

_SECRET_BYTES = 32


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def signed_headers(
    signing_secrets: Sequence[str], message_id: str, body: str, now: datetime | None = None
) -> dict[str, str]:
    """The three headers of one attempt; the timestamp is the attempt's, not the event's."""
    sent_at = (now or datetime.now(UTC)).astimezone(UTC)
    signatures = [Webhook(secret).sign(message_id, sent_at, body) for secret in signing_secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
