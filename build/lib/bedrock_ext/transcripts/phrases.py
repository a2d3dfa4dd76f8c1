"""Phrase bank for synthetic call-center transcripts: intents, tones, endings, action items.

Every phrase is plain English a real call could contain. The generator picks from these tables
with a seeded RNG; the emulator's summarizer never reads this module (it must derive its answer
from the transcript text alone).
"""

from __future__ import annotations

INTENTS: tuple[str, ...] = (
    "billing_dispute",
    "cancellation",
    "technical_fault",
    "delivery_delay",
    "account_change",
    "refund_request",
)

QUEUES: dict[str, str] = {
    "billing_dispute": "billing",
    "cancellation": "retention",
    "technical_fault": "tech_support",
    "delivery_delay": "logistics",
    "account_change": "accounts",
    "refund_request": "billing",
}

RESOLUTIONS: tuple[str, ...] = ("resolved", "escalated", "unresolved")
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")

GREETINGS: tuple[str, ...] = (
    "Agent: Thank you for calling Northwind Services, my name is {agent}. How can I help you today?",
    "Agent: Good morning, you're through to Northwind customer care, this is {agent} speaking.",
    "Agent: Hi, thanks for holding. {agent} here, what can I do for you?",
)

OPENINGS: dict[str, tuple[str, ...]] = {
    "billing_dispute": (
        "Customer: Hi, I was charged ${amount} on my last bill and I don't recognise that charge.",
        "Customer: My invoice this month is ${amount} higher than usual and nobody told me why.",
        "Customer: I've been billed twice for the same month, ${amount} each time.",
    ),
    "cancellation": (
        "Customer: I'd like to cancel my subscription, please.",
        "Customer: I want to close my account. I'm moving to another provider.",
        "Customer: Please cancel my plan at the end of this billing period.",
    ),
    "technical_fault": (
        "Customer: My internet keeps dropping every few minutes since yesterday.",
        "Customer: The router shows a red light and I have no connection at all.",
        "Customer: The app crashes every time I try to log in on my phone.",
    ),
    "delivery_delay": (
        "Customer: My order {order} was supposed to arrive on Monday and it still hasn't come.",
        "Customer: The tracking for order {order} hasn't updated in five days.",
        "Customer: I'm calling about a parcel, order {order}, that is two weeks late.",
    ),
    "account_change": (
        "Customer: I need to update the address on my account, I've just moved.",
        "Customer: Can you change the email address and phone number on my account?",
        "Customer: I want to add my partner as an authorised user on the account.",
    ),
    "refund_request": (
        "Customer: I returned the device two weeks ago and I still haven't got my ${amount} refund.",
        "Customer: I'd like a refund for order {order}, the item arrived damaged.",
        "Customer: You promised me a refund of ${amount} last month and it never came.",
    ),
}

AGENT_PROBES: dict[str, tuple[str, ...]] = {
    "billing_dispute": (
        "Agent: I can see the charge here. Let me check where it came from.",
        "Agent: I'm looking at your billing history now, one moment please.",
    ),
    "cancellation": (
        "Agent: I'm sorry to hear that. May I ask why you'd like to cancel?",
        "Agent: Before I process that, can I check whether something went wrong with the service?",
    ),
    "technical_fault": (
        "Agent: Let's run a line test. Can you restart the router for me?",
        "Agent: I can see some errors on your line. Which lights are on at the moment?",
    ),
    "delivery_delay": (
        "Agent: I've pulled up order {order}. It looks like it's held at our depot.",
        "Agent: Let me contact the courier about order {order}.",
    ),
    "account_change": (
        "Agent: For security, can you confirm your date of birth and postcode?",
        "Agent: No problem, I just need to verify your identity first.",
    ),
    "refund_request": (
        "Agent: I can see the return was received at our warehouse.",
        "Agent: Let me check the refund status for order {order}.",
    ),
}

CUSTOMER_TONE: dict[str, tuple[str, ...]] = {
    "negative": (
        "Customer: This is really frustrating, I've already called twice about this.",
        "Customer: Honestly this is unacceptable, I'm very unhappy with the service.",
        "Customer: I'm annoyed that nobody sorted this out the first time.",
        "Customer: This is ridiculous, I've wasted hours on this.",
    ),
    "neutral": (
        "Customer: Okay, I understand.",
        "Customer: Sure, I can wait a moment.",
        "Customer: Right, go ahead.",
        "Customer: Yes, that's my account.",
    ),
    "positive": (
        "Customer: Thank you, that's really helpful.",
        "Customer: Great, I appreciate you sorting this out.",
        "Customer: Perfect, thanks so much for your help.",
        "Customer: That's brilliant, thank you.",
    ),
}

AGENT_FILLER: tuple[str, ...] = (
    "Agent: Thanks for bearing with me.",
    "Agent: I understand, let me look into that for you.",
    "Agent: I can see your account details here.",
    "Agent: Just to confirm, you're calling from the number on the account?",
    "Agent: I appreciate your patience while I check this.",
    "Agent: Let me put a note on your account so the next person can see it.",
)

ACTIONS: dict[str, tuple[str, ...]] = {
    "billing_dispute": (
        "issue a credit of ${amount} to the account",
        "send a corrected invoice by email",
    ),
    "cancellation": (
        "process the cancellation effective at the end of the billing period",
        "send a cancellation confirmation by email",
    ),
    "technical_fault": (
        "book an engineer visit for {day}",
        "send a replacement router by courier",
    ),
    "delivery_delay": (
        "arrange redelivery of order {order} on {day}",
        "send a replacement for order {order} by express courier",
    ),
    "account_change": (
        "update the account address and contact details",
        "send a verification code to the new email address",
    ),
    "refund_request": (
        "process a refund of ${amount} to the original payment method",
        "email the refund confirmation for order {order}",
    ),
}

FOLLOW_UPS: tuple[str, ...] = (
    "call the customer back within 48 hours",
    "email a case update to the customer by {day}",
)

ENDINGS: dict[str, tuple[str, ...]] = {
    "resolved": (
        "Agent: I've sorted that out for you now. Is there anything else I can help with?",
        "Agent: That's all done and confirmed on the system.",
    ),
    "escalated": (
        "Agent: I'm going to escalate this to my supervisor's team, they will take it from here.",
        "Agent: I need to transfer this to our specialist team, I'm escalating the case now.",
    ),
    "unresolved": (
        "Agent: I'm afraid I can't fix this today, the system won't let me make that change.",
        "Agent: Unfortunately I'm unable to resolve this on this call.",
    ),
}

CLOSINGS: dict[str, tuple[str, ...]] = {
    "negative": (
        "Customer: Fine. I'm still not happy about this.",
        "Customer: I expect this to actually be fixed this time.",
    ),
    "neutral": ("Customer: Okay, thanks. Bye.", "Customer: Alright, goodbye."),
    "positive": (
        "Customer: Thanks a lot, you've been really helpful. Bye!",
        "Customer: Wonderful, thank you for your help today.",
    ),
}

AGENT_NAMES: tuple[str, ...] = (
    "Priya", "Tom", "Aisha", "Marco", "Lena", "Kwame", "Sofia", "Daniel", "Mei", "Oliver",
)
DAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
