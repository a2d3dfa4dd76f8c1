"""The emulator's "model": a deterministic keyword heuristic, NOT a language model.

It reads a speaker-labelled transcript ("Agent: ..." / "Customer: ..." lines) out of the prompt and
derives a summary, intent, sentiment, resolution and action items from what was actually said.
It ignores instructions inside the transcript (so prompt injection cannot change its answer shape)
and it is fast: tens of thousands of records per second on one core.
"""

from __future__ import annotations

import math
import re

MODEL_LABEL = "local-heuristic-summarizer (bedrock-ext emulator, not an LLM)"

_INTENT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "refund_request": ("refund", "returned the", "money back"),
    "billing_dispute": ("charged", "charge", "invoice", "bill", "billed"),
    "cancellation": ("cancel", "close my account", "another provider"),
    "technical_fault": ("internet", "router", "crash", "connection", "dropping", "won't charge"),
    "delivery_delay": ("order", "tracking", "parcel", "arrive", "delivery", "courier"),
    "account_change": ("address", "email address", "phone number", "authorised user", "update"),
}
_INTENT_PHRASES: dict[str, str] = {
    "refund_request": "a refund that has not arrived",
    "billing_dispute": "a disputed charge on their bill",
    "cancellation": "cancelling their service",
    "technical_fault": "a technical fault",
    "delivery_delay": "a late delivery",
    "account_change": "changing their account details",
    "other": "an unclassified request",
}
_NEGATIVE = ("frustrat", "unacceptable", "annoyed", "ridiculous", "not happy", "unhappy", "wasted",
             "expect this", "angry", "😡", "terrible")
_POSITIVE = ("thanks so much", "thanks a lot", "thank you for your help", "great", "perfect",
             "brilliant", "wonderful", "helpful", "appreciate")
_ESCALATED = ("escalat", "transfer this", "supervisor")
_UNRESOLVED = ("unable to resolve", "can't fix", "cannot fix", "won't let me", "i'm afraid")
_RESOLVED = ("sorted that out", "all done", "confirmed on the system", "i'll send", "i will send")
_ACTION = re.compile(r"\b(?:I will|I'll)\s+(?:also\s+)?(.+?)(?=\.(?:\s|$)|[!?]|$)", re.I | re.M)
_SPEAKER = re.compile(r"^\s*(Agent|Customer)\s*:\s*(.*)$", re.I)


def count_tokens(text: str) -> int:
    """The emulator's token count: one token per 4 characters (rounded up), at least 1."""
    return max(1, math.ceil(len(text) / 4))


def _turns(text: str) -> tuple[list[str], list[str]]:
    agent: list[str] = []
    customer: list[str] = []
    for line in text.splitlines():
        m = _SPEAKER.match(line)
        if m:
            (agent if m.group(1).lower() == "agent" else customer).append(m.group(2).strip())
    return agent, customer


def _score(lines: list[str], words: tuple[str, ...]) -> int:
    text = "\n".join(lines).lower()
    return sum(text.count(w) for w in words)


def classify_intent(customer: list[str]) -> str:
    opening = customer[:3]
    scores = {intent: _score(opening, kw) * 3 + _score(customer, kw)
              for intent, kw in _INTENT_KEYWORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else "other"


def classify_sentiment(lines: list[str]) -> str:
    score = _score(lines, _POSITIVE) - _score(lines, _NEGATIVE)
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"


def classify_resolution(agent: list[str]) -> str:
    closing = agent[-4:]
    if _score(closing, _ESCALATED):
        return "escalated"
    if _score(closing, _UNRESOLVED):
        return "unresolved"
    return "resolved" if _score(closing, _RESOLVED) else "unresolved"


def action_items(agent: list[str]) -> list[str]:
    items = [m.group(1).strip() for line in agent[-4:] for m in _ACTION.finditer(line)]
    return [i for i in items if not i.lower().startswith(("take it from here", "check"))][:5]


def summarize(transcript: str) -> dict[str, object]:
    """Summary, intent, customer sentiment (start and end), resolution and action items."""
    agent, customer = _turns(transcript)
    if not customer:
        customer = [line for line in transcript.splitlines() if line.strip()][:20]
    intent = classify_intent(customer)
    half = max(1, len(customer) // 2)
    start, end = classify_sentiment(customer[:half]), classify_sentiment(customer[half:])
    resolution = classify_resolution(agent)
    actions = action_items(agent)
    first = (customer[0] if customer else "").strip()[:160]
    summary = (
        f"The customer called about {_INTENT_PHRASES[intent]}"
        + (f' ("{first}")' if first else "")
        + f". The call ended {resolution}, with the customer {end}"
        + (f"; agreed next step: {actions[0]}." if actions else ".")
    )
    return {
        "summary": summary,
        "intent": intent,
        "sentiment": end,
        "sentiment_start": start,
        "sentiment_end": end,
        "resolution": resolution,
        "action_items": actions,
    }


def transcript_part(prompt_text: str) -> str:
    """The transcript inside the prompt: between <transcript> tags when present, else all of it."""
    start = prompt_text.find("<transcript>")
    end = prompt_text.rfind("</transcript>")
    if start != -1 and end > start:
        return prompt_text[start + len("<transcript>") : end]
    return prompt_text
