"""The Product Owner agent of test-child, specialised for the storefront.

This file is ours: `osorganic update` merges template changes into it but keeps our edits.
On top of the e-commerce preset it knows the storefront's modules, and it refuses to call a
story that touches payments ready until the story states its PCI-DSS scope.
"""

from __future__ import annotations

import re

from osorganicai.agents import ProductOwnerAgent as RuntimeProductOwnerAgent

DOMAIN_CONTEXT = """\
This is an e-commerce application. Every story is judged against these concerns:
- Inventory: stock levels, reservations during checkout, overselling and back-orders.
- Payments: PCI-DSS scope. Card data never touches our servers, logs or database; use the
  payment provider's tokens and hosted fields. Refunds and partial captures are explicit.
- Shipping: carriers, rates, addresses, delivery estimates, international customs.
- Fulfilment: order states (placed, paid, picked, packed, shipped, delivered, returned).
- Checkout flow: guest and signed-in checkout, taxes, discounts, idempotent order creation.
- Cart abandonment: saved carts, reminders with consent, no dark patterns.
"""
CLARIFYING_FOCUS = (
    "Which products, variants or stock locations are affected, and what happens when stock runs out?",
    "Does this touch payment data or PCI-DSS scope (card entry, tokens, refunds)?",
    "How does it change shipping, fulfilment states or the checkout flow?",
)

# The storefront's modules, so the agent can name the one a story lands in.
STOREFRONT_MODULES = {
    "catalog": "products, variants, prices shown to shoppers",
    "cart": "carts, saved carts, abandonment reminders",
    "checkout": "address, shipping choice, taxes, order creation",
    "payments": "payment intents with the provider, refunds, chargebacks",
    "fulfilment": "picking, packing, shipping labels, tracking, returns",
}
PAYMENT_TERMS = re.compile(r"\b(payments?|refunds?|card|cvv|chargebacks?|pci)\b", re.IGNORECASE)
PAYMENT_RULE = (
    "This story touches payments. Do not mark it complete until it states its PCI-DSS scope "
    "(no card data stored or logged, provider tokens only) and how refunds are affected."
)


def mentions_payments(text: str) -> bool:
    """Whether a story's text touches the payment flow (and so PCI-DSS scope)."""
    return bool(PAYMENT_TERMS.search(text))


class ProductOwnerAgent(RuntimeProductOwnerAgent):
    """Adds storefront knowledge to the runtime's Product Owner."""

    def get_domain_context(self) -> str:
        modules = "\n".join(f"- {name}: {scope}" for name, scope in STOREFRONT_MODULES.items())
        return f"{DOMAIN_CONTEXT}\nStorefront modules:\n{modules}\n\n{super().get_domain_context()}"

    def customize_prompt(self, base_prompt: str) -> str:
        focus = "\n".join(f"- {question}" for question in CLARIFYING_FOCUS)
        return (
            f"{base_prompt}\n\n## Questions this project always settles before development\n{focus}\n"
            f"- Name the storefront module the story lands in.\n\n## Payments\n{PAYMENT_RULE}"
        )
