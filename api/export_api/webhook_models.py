"""Request and response bodies of /public-api/v1/webhook-endpoints."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from export_api.models import Page
from export_webhooks.addresses import MAX_URL_LENGTH
from export_webhooks.events import EventType

MAX_OVERLAP_SECONDS = 7 * 86400


class CreateWebhookEndpointRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"url": "https://hooks.example.com/exports", "events": ["export.completed"]}
            ]
        },
    )

    url: Annotated[
        StrictStr,
        Field(
            max_length=MAX_URL_LENGTH,
            description="https URL on a public address; deliveries are POSTed here.",
        ),
    ]
    events: Annotated[
        list[EventType],
        Field(min_length=1, max_length=len(EventType), description="The events to receive."),
    ]

    @field_validator("events")
    @classmethod
    def _distinct(cls, events: list[EventType]) -> list[EventType]:
        if len(set(events)) != len(events):
            raise ValueError("names an event twice")
        return events


class RotateSecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_seconds: Annotated[
        int,
        Field(
            ge=0,
            le=MAX_OVERLAP_SECONDS,
            description="How long the old secret keeps signing beside the new one.",
        ),
    ] = 86400


class WebhookEndpointResponse(BaseModel):
    id: Annotated[int, Field(examples=[7])]
    url: str
    events: list[EventType]
    status: Annotated[
        Literal["enabled", "disabled"],
        Field(description="disabled: a delivery failed for the whole retry window."),
    ]
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    created_at: datetime
    previous_secret_expires_at: Annotated[
        datetime | None,
        Field(description="Until then, deliveries also carry a signature by the old secret."),
    ] = None


class CreatedWebhookEndpointResponse(WebhookEndpointResponse):
    secret: Annotated[
        str,
        Field(
            description="The signing secret (Standard Webhooks), shown only in this answer.",
            examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        ),
    ]


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointResponse]


class WebhookDeliveryResponse(BaseModel):
    id: Annotated[str, Field(description="The webhook-id header: the same on every attempt.")]
    event: EventType
    export_id: int
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    last_status_code: Annotated[
        int | None, Field(description="The receiver's last answer; null if none came.")
    ] = None
    last_error: str | None = None
    next_attempt_at: Annotated[datetime | None, Field(description="While pending.")] = None
    created_at: datetime
    delivered_at: datetime | None = None


class WebhookDeliveryPage(Page[WebhookDeliveryResponse]):
    """One page of an endpoint's deliveries, newest first."""


class RotatedSecretResponse(BaseModel):
    secret: Annotated[str, Field(description="The new signing secret, shown only here.")]
    previous_secret_expires_at: Annotated[
        datetime, Field(description="Until then the old secret signs too.")
    ]
