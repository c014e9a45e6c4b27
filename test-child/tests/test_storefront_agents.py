"""test-child's own specialisations: the storefront agents the runtime loads from src/agents/."""

from __future__ import annotations

from osorganicai.agents import DeveloperAgent as RuntimeDeveloperAgent
from osorganicai.agents import ProductOwnerAgent as RuntimeProductOwnerAgent
from osorganicai.cli import agent_class
from src.agents.developer import DeveloperAgent
from src.agents.product_owner import PAYMENT_RULE, ProductOwnerAgent, mentions_payments

from .support import ScriptedLLM

READY = {"needs_clarification": False, "questions": [], "refined_description": "Done.", "is_complete": True}


def make(agent_class_, store, fake_github, settings, runtime_config):
    return agent_class_(
        repository="Codertocat/Hello-World",
        settings=settings,
        config=runtime_config,
        store=store,
        github=fake_github.client(),
        llm=ScriptedLLM(READY),
    )


def test_runtime_loads_the_storefront_agents():
    assert agent_class("product_owner") is ProductOwnerAgent
    assert agent_class("developer") is DeveloperAgent
    assert issubclass(ProductOwnerAgent, RuntimeProductOwnerAgent)
    assert issubclass(DeveloperAgent, RuntimeDeveloperAgent)


def test_payment_stories_are_recognised():
    assert mentions_payments("Support partial refunds on cancelled orders")
    assert mentions_payments("Save the card for next time?")
    assert not mentions_payments("Show stock levels on the product page")


def test_product_owner_prompt_carries_storefront_and_preset(store, fake_github, settings, runtime_config):
    prompt = make(ProductOwnerAgent, store, fake_github, settings, runtime_config).system_prompt()
    assert "checkout: address, shipping choice" in prompt
    assert PAYMENT_RULE in prompt
    assert "Name the storefront module" in prompt
    # The preset's own context from config/domain.toml is still there, after ours.
    assert prompt.index("Storefront modules:") < prompt.index("Domain: E-commerce")


def test_developer_prompt_pins_the_layout(store, fake_github, settings, runtime_config):
    prompt = make(DeveloperAgent, store, fake_github, settings, runtime_config).system_prompt()
    assert "src/storefront/<module>/" in prompt
    assert "Money is Decimal" in prompt
    assert prompt.rstrip().endswith("the pull request is a draft for a person.")
