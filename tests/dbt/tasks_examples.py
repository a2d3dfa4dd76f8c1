"""Tasks as a user declares them (the bedrock_ext_tasks var), for the outside-in tests."""

from __future__ import annotations

import copy
from typing import Any

TICKET_TRIAGE: dict[str, Any] = {
    "id_column": "ticket_id",
    "text_column": "body",
    "prompt_version": "2026-11",
    "prompt": {
        "system": "You triage customer support tickets for a broadband provider.",
        "user": "Priority given by the customer: {priority}\nTicket:\n{body}",
    },
    "answer_schema": {
        "type": "object", "additionalProperties": False,
        "required": ["category", "urgency", "needs_refund", "reply_draft"],
        "properties": {
            "category": {"type": "string", "enum": ["billing", "outage", "hardware", "account", "other"]},
            "urgency": {"type": "integer", "minimum": 1, "maximum": 5},
            "needs_refund": {"type": "boolean"},
            "reply_draft": {"type": "string", "maxLength": 400},
        },
    },
}

TICKET_LANGUAGE: dict[str, Any] = {
    "id_column": "ticket_id",
    "prompt": {"system": "You tag the tone of a support ticket.", "user": "{body}"},
    "answer_schema": {
        "type": "object", "additionalProperties": False, "required": ["tone", "mentions_competitor"],
        "properties": {"tone": {"type": "string", "enum": ["calm", "annoyed", "angry"]},
                       "mentions_competitor": {"type": "boolean"},
                       "keywords": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 3}},
    },
}


def task(spec: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(spec), **changes}
