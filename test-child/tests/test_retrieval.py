"""Content-ranked retrieval: tokens, BM25 ranking with identifier and path boosts, the repository map, refresh."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from osorganicai.developer.retrieval import RepositoryIndex, identifier_terms, matches_glob, query_terms

SYLLABLES = ("ka", "lo", "mi", "ren", "tas", "vo", "qui", "bel", "dor", "fen", "gal", "hum", "jin", "pre", "sol", "tur")
DOMAIN_WORDS = ("discount", "cart", "loyalty", "percentage", "rounding", "price", "order", "customer", "tax", "invoice")
TARGET_DOCSTRING = "Loyalty discounts for a customer's cart: the percentage is applied, then rounded to the cent."
ISSUE = (
    "Loyalty discount percentage is rounded down\n\n"
    "When a customer's cart qualifies for a loyalty discount, apply_discount rounds the percentage down "
    "instead of to the nearest cent, so CartService totals are one cent too high."
)


Words = Callable[..., list[str]]  # words(count, domain_share=0.0): made-up words, some from DOMAIN_WORDS


@dataclass(frozen=True)
class SyntheticRepository:
    root: Path
    target_module: str
    target_test: str
    file_count: int


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def write_synthetic_repository(root: Path, *, file_count: int = 2000, seed: int = 7) -> SyntheticRepository:
    """A repository of `file_count` files whose paths say nothing: modules, their tests and notes, sharing
    a made-up vocabulary; many mention discounts, carts or prices. One module (index 613) is what `ISSUE`
    is about: it defines `apply_discount` and `CartService` under a docstring in the issue's words."""
    generator = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    vocabulary = sorted({"".join(generator.choices(SYLLABLES, k=generator.randint(2, 3))) for _ in range(900)})
    module_count, test_count = file_count * 6 // 10, file_count * 35 // 100
    note_count = file_count - module_count - test_count
    target = 613

    def words(count: int, domain_share: float = 0.0) -> list[str]:
        return [generator.choice(DOMAIN_WORDS if generator.random() < domain_share else vocabulary) for _ in range(count)]

    for number in range(module_count):
        module = root / f"src/pkg{number % 25:02d}/mod_{number:04d}.py"
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(target_source() if number == target else module_source(words, generator, number))
    for number in range(test_count):
        test = root / f"tests/pkg{number % 25:02d}/test_mod_{number:04d}.py"
        test.parent.mkdir(parents=True, exist_ok=True)
        test.write_text(synthetic_test_source(number, target, words))
    for number in range(note_count):
        note = root / f"docs/note_{number:03d}.md"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text("# " + " ".join(words(4, 0.3)) + "\n\n" + " ".join(words(120, 0.05)) + "\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    return SyntheticRepository(
        root,
        f"src/pkg{target % 25:02d}/mod_{target:04d}.py",
        f"tests/pkg{target % 25:02d}/test_mod_{target:04d}.py",
        file_count,
    )


def module_source(words: Words, generator: random.Random, number: int) -> str:
    doc = " ".join(words(14, 0.12)).capitalize() + "."
    functions = []
    for _ in range(generator.randint(3, 6)):
        name = "_".join(words(2, 0.15))
        body = " + ".join(f"{word}_{generator.randint(0, 9)}" for word in words(3, 0.05))
        functions.append(f'def {name}({", ".join(words(2))}):\n    """{" ".join(words(8, 0.1))}."""\n    return {body}\n')
    class_name = "".join(word.capitalize() for word in words(2, 0.2))
    decoy = "\ndef apply_tax(price, rate):\n    return round(price * (1 + rate), 2)\n" if number % 40 == 0 else ""
    if number % 97 == 0:  # the issue's words and near-identifiers, without its module
        decoy += (
            "\n\ndef apply_discounts_later(cart_service, loyalty):\n"
            '    """Defer loyalty discounts for a customer cart; the percentage is kept as given."""\n'
            "    return cart_service  # CartService totals are not touched here\n"
        )
    return f'"""{doc}"""\n\n\n' + "\n\n".join(functions) + f"\n\nclass {class_name}:\n    total = 0\n{decoy}"


def target_source() -> str:
    return f'''"""{TARGET_DOCSTRING}"""

from decimal import ROUND_HALF_UP, Decimal


def apply_discount(price: Decimal, percentage: Decimal) -> Decimal:
    """The price after a loyalty discount of `percentage` percent, rounded to the cent."""
    discounted = price * (100 - percentage) / 100
    return discounted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class CartService:
    def __init__(self) -> None:
        self.lines: list[Decimal] = []

    def total(self, loyalty_percentage: Decimal) -> Decimal:
        return sum(apply_discount(price, loyalty_percentage) for price in self.lines)
'''


def synthetic_test_source(number: int, target: int, words: Words) -> str:
    module = f"src.pkg{number % 25:02d}.mod_{number:04d}"
    if number == target:
        return (
            f"from {module} import CartService, apply_discount\n\n\n"
            "def test_values():\n    assert apply_discount(10, 10) == 9\n    assert CartService().lines == []\n"
        )
    return f"from {module} import *  # noqa\n\n\ndef test_{'_'.join(words(2))}():\n    assert {' '.join(words(1))} is not None\n"


def test_identifiers_split_on_snake_camel_and_dots() -> None:
    assert identifier_terms("apply_discount") == ("apply_discount", "apply", "discount")
    assert identifier_terms("CartService") == ("cartservice", "cart", "service")
    assert identifier_terms("HTTPServerError") == ("httpservererror", "http", "server", "error")
    assert identifier_terms("the") == ()
    terms = {term.term: term.weight for term in query_terms("fix osorganicai.llm.base and `apply_discount` in the cart")}
    assert terms["apply_discount"] > terms["discount"] == terms["cart"] == terms["osorganicai"] == terms["llm"]
    assert "the" not in terms and "in" not in terms


def test_the_module_an_issue_is_about_ranks_first_among_two_thousand_files(tmp_path: Path) -> None:
    repository = write_synthetic_repository(tmp_path)
    index = RepositoryIndex.build(tmp_path)

    assert len(index.files) == repository.file_count
    hits = index.search(ISSUE)
    assert hits[0].path == repository.target_module
    assert any("def apply_discount" in line for _, line in hits[0].lines)
    assert index.search("apply_discount")[0].path == repository.target_module
    line_numbers = [number for number, _ in hits[0].lines]
    assert line_numbers == sorted(line_numbers) and len(line_numbers) <= 3

    repository_map = index.repository_map(ISSUE, max_chars=6000)
    assert len(repository_map) <= 6000
    assert f"Repository: {repository.file_count} files" in repository_map
    assert "src/ (1200)" in repository_map and "tests/ (700)" in repository_map
    target_entry = repository_map.split(f"- {repository.target_module}\n", 1)[1].split("\n- ", 1)[0]
    assert "def apply_discount (line 6)" in target_entry
    assert "class CartService (line 12): __init__, total" in target_entry
    assert f"tested by: {repository.target_test}" in target_entry


def test_exact_identifier_beats_the_same_words_scattered(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def apply_discount(price):\n    return price\n")
    (tmp_path / "b.py").write_text("# apply the discount, apply it, discount discount\nvalue = 1\n")
    git(tmp_path, "init", "-q")

    hits = RepositoryIndex.build(tmp_path).search("apply_discount")

    assert [hit.path for hit in hits] == ["a.py", "b.py"]
    assert hits[0].lines == ((1, "def apply_discount(price):"),)


def test_path_words_boost_and_glob_filters(tmp_path: Path) -> None:
    (tmp_path / "billing").mkdir()
    (tmp_path / "billing/invoice.py").write_text("total = 1\n")
    (tmp_path / "notes.md").write_text("invoice invoice\n")
    (tmp_path / "other.py").write_text("x = 1\n")
    git(tmp_path, "init", "-q")
    index = RepositoryIndex.build(tmp_path)

    assert {hit.path for hit in index.search("invoice")} == {"billing/invoice.py", "notes.md"}
    assert [hit.path for hit in index.search("invoice", path_glob="*.py")] == ["billing/invoice.py"]
    assert [hit.path for hit in index.search("invoice", path_glob="billing/*")] == ["billing/invoice.py"]
    assert matches_glob("tests/unit/test_a.py", "test_*.py") and not matches_glob("src/a.py", "tests/*")


def test_build_skips_ignored_binary_oversized_and_symlinked_files(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("ignored.txt\n")
    (tmp_path / "ignored.txt").write_text("needle\n")
    (tmp_path / "binary.dat").write_bytes(b"needle\0\1\2")
    (tmp_path / "big.txt").write_text("needle " * 400)
    (tmp_path / "kept.txt").write_text("needle\n")
    (tmp_path / "link.txt").symlink_to(tmp_path / "kept.txt")
    git(tmp_path, "init", "-q")

    index = RepositoryIndex.build(tmp_path, max_file_bytes=1000)

    assert [hit.path for hit in index.search("needle")] == ["kept.txt"]
    assert index.listed_count == 5  # .gitignore, binary.dat, big.txt, kept.txt and link.txt; not the ignored file


def test_refresh_reads_changed_files_again_and_drops_deleted_ones(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("alpha = 1\n")
    (tmp_path / "b.py").write_text("beta = 1\n")
    git(tmp_path, "init", "-q")
    index = RepositoryIndex.build(tmp_path)

    (tmp_path / "a.py").write_text("gamma = 1\ngamma_value = 2\n")
    (tmp_path / "b.py").unlink()
    (tmp_path / "c.py").write_text("beta = 2\n")
    assert index.stale(["a.py", "b.py", "c.py"]) == ["a.py", "b.py", "c.py"]
    index.refresh(["a.py", "b.py", "c.py"])

    assert index.search("alpha") == []
    assert [hit.path for hit in index.search("gamma")] == ["a.py"]
    assert [hit.path for hit in index.search("beta")] == ["c.py"]
    assert index.stale(["a.py", "b.py", "c.py"]) == []


def test_a_folder_that_is_not_a_git_repository_is_walked(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/found.py").write_text("needle = 1\n")

    assert [hit.path for hit in RepositoryIndex.build(tmp_path).search("needle")] == ["sub/found.py"]


def test_tests_are_found_for_plural_and_compound_module_names(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "app/models.py").write_text("class Invoice:\n    pass\n")
    (tmp_path / "app/cart_service.py").write_text("def checkout_invoice():\n    pass\n")
    (tmp_path / "tests/test_models.py").write_text("from app import models\n\n\ndef test_invoice():\n    models.Invoice()\n")
    (tmp_path / "tests/test_flow.py").write_text("import app.cart_service as service\n")
    (tmp_path / "tests/test_mentions.py").write_text("# cart_service is covered elsewhere\n")
    (tmp_path / "tests/conftest.py").write_text("from app import models\n")  # a helper, not a test
    git(tmp_path, "init", "-q")
    index = RepositoryIndex.build(tmp_path)

    assert index.tests_for("app/models.py") == ["tests/test_models.py"]
    assert index.tests_for("app/cart_service.py") == ["tests/test_flow.py", "tests/test_mentions.py"]
    assert index.tests_for("tests/test_models.py") == []


def test_the_map_keeps_long_definition_lists_short(tmp_path: Path) -> None:
    (tmp_path / "ledger.py").write_text("".join(f"def ledger_step_{n}():\n    pass\n\n\n" for n in range(15)))
    git(tmp_path, "init", "-q")

    repository_map = RepositoryIndex.build(tmp_path).repository_map("ledger step")

    assert "    def ledger_step_9 (line 37)\n    ... and 5 more definitions" in repository_map
    assert "ledger_step_10" not in repository_map
