"""The Developer agent of test-child, specialised for the storefront.

This file is ours: `osorganic update` merges template changes into it but keeps our edits.
On top of the e-commerce preset it pins the storefront's code layout and money rules.
"""

from __future__ import annotations

from osorganicai.agents import DeveloperAgent as RuntimeDeveloperAgent

IMPLEMENTATION_RULES = """\
- Money is Decimal with a currency code, never float; prices, taxes and discounts round once.
- PCI-DSS: never store, log or print card numbers, CVV or full track data; use provider tokens.
- Inventory changes are atomic: reserve stock in the same transaction as the order line.
- Checkout and payment calls are idempotent (idempotency keys); shipping and fulfilment
  states move forward only.
- Cart abandonment reminders respect consent and unsubscribe.
- Tests cover the checkout flow, out-of-stock and payment-failure paths.
"""
STOREFRONT_LAYOUT = """\
- Code lives in `src/storefront/<module>/` (catalog, cart, checkout, payments, fulfilment);
  tests mirror it in `tests/storefront/test_<module>_*.py`.
- `src/storefront/payments/` only talks to the provider through `provider.py`; nothing else
  imports the provider's client.
- Order numbers look like `SO-` followed by six digits.
"""


class DeveloperAgent(RuntimeDeveloperAgent):
    """Adds storefront implementation rules to the runtime's Developer."""

    def get_domain_context(self) -> str:
        return (
            super().get_domain_context()
            + "\n\nImplementation rules:\n"
            + IMPLEMENTATION_RULES
            + "\nStorefront layout:\n"
            + STOREFRONT_LAYOUT
        )

    def customize_prompt(self, base_prompt: str) -> str:
        return base_prompt + "\n\nKeep the change minimal and reviewable; the pull request is a draft for a person."
