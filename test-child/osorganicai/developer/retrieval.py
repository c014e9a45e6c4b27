"""Content-ranked retrieval over the checkout, and the repository map shown in the Developer's first prompt.

The index holds, for every text file git knows (tracked, or untracked and not ignored), the counts of
its tokens: identifiers whole and split on snake_case, camelCase and dots, lowercased, stop words
dropped. Search ranks files with BM25 over those tokens, weighs whole identifiers named in the query
(`apply_discount`, `CartService`) above single words, and boosts files whose path shares the query's
words. File text is not kept in memory: the lines shown for a hit are read again from disk.
"""

from __future__ import annotations

import ast
import fnmatch
import math
import os
import re
import stat
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from .workspace import SAFE_GIT_OPTIONS

BINARY_SNIFF_BYTES = 8192
BM25_K1 = 1.2
BM25_B = 0.75
IDENTIFIER_WEIGHT = 3.0  # a whole identifier from the query, e.g. `apply_discount`
WORD_WEIGHT = 1.0
PATH_WEIGHT = 0.6  # per query word found in the file's path, times its rarity
DEFINITION_WEIGHT = 1.0  # per query term naming something the file defines, times its rarity
LINES_PER_HIT = 3
MAX_LINE_CHARS = 200
MAP_FILES = 12
MAP_TESTS_PER_FILE = 3
MAP_DEFINITIONS_PER_FILE = 10

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFINITION = re.compile(
    r"^[ \t]*(?:export[ \t]+)?(?:pub[ \t]+)?(?:async[ \t]+)?(?:def|class|function|fn|func|struct|enum|trait|interface)"
    r"[ \t]+([A-Za-z_][A-Za-z0-9_]*)",
    re.MULTILINE,
)
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+|[0-9]+")
STOP_WORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below between both
    but by can could did do does doing down during each else few for from further had has have having he her here
    him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our
    out over own same she should so some such than that the their them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you your
    def self cls return import none true false pass elif""".split()  # noqa: SIM905 - a word list reads better as text
)


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """A light English stemmer, so `discounts`, `discounted` and `discounting` all meet `discount`."""
    if word[-1] not in "sdg" or word.endswith(("ss", "us", "is")):
        return word
    if len(word) > 4 and word.endswith(("ies", "ied")):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _word_parts(piece: str) -> list[str]:
    if piece.islower() or piece.isupper() or piece.isdigit():
        return [piece] if piece else []
    return _CAMEL_PART.findall(piece)


@lru_cache(maxsize=200_000)
def identifier_terms(identifier: str) -> tuple[str, ...]:
    """An identifier's index terms: itself lowercased when compound, then its stemmed parts; stop words left out."""
    parts = [part.lower() for piece in identifier.split("_") for part in _word_parts(piece)]
    terms = [stem(part) for part in parts if len(part) > 1 and part not in STOP_WORDS]
    whole = identifier.lower().strip("_")
    if len(parts) > 1 and whole:
        terms.insert(0, whole)
    return tuple(terms)


def text_terms(text: str) -> list[str]:
    return [term for identifier in _IDENTIFIER.findall(text) for term in identifier_terms(identifier)]


def term_counts(text: str) -> dict[str, int]:
    """How often each term occurs: identifiers are counted first, so each distinct one is split once."""
    counts: dict[str, int] = {}
    count_of = counts.get
    for identifier, occurrences in Counter(_IDENTIFIER.findall(text)).items():
        for term in identifier_terms(identifier):
            counts[term] = count_of(term, 0) + occurrences
    return counts


def definition_terms(text: str) -> frozenset[str]:
    """Terms of the names a file defines (`def`, `class`, `function`, `fn`, `struct`, ...)."""
    return frozenset(term for name in _DEFINITION.findall(text) for term in identifier_terms(name))


def path_terms(path: str) -> frozenset[str]:
    return frozenset(text_terms(path.replace("-", "_")))


@dataclass(frozen=True)
class SearchHit:
    path: str
    score: float
    lines: tuple[tuple[int, str], ...]  # the best matching lines, numbered from 1


@dataclass(frozen=True)
class QueryTerm:
    term: str
    weight: float


@dataclass
class IndexedFile:
    term_counts: dict[str, int]
    length: int
    path_terms: frozenset[str]
    definition_terms: frozenset[str]
    signature: tuple[int, int]  # (mtime_ns, size): refresh skips files that did not change


def query_terms(query: str) -> list[QueryTerm]:
    """Whole compound identifiers weigh more than the words they (and the rest of the query) split into."""
    weights: dict[str, float] = {}
    for identifier in _IDENTIFIER.findall(query.replace("-", "_")):
        for term in identifier_terms(identifier):
            is_whole = len(identifier_terms(identifier)) > 1 and term == identifier.lower().strip("_")
            weight = IDENTIFIER_WEIGHT if is_whole else WORD_WEIGHT
            weights[term] = max(weights.get(term, 0.0), weight)
    return [QueryTerm(term, weight) for term, weight in weights.items()]


def listed_files(root: Path) -> list[str]:
    """The files git would show: tracked plus untracked-but-not-ignored. Without git, every file outside `.git`."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
            cwd=root,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return sorted(_walked_files(root))
    return sorted({name for name in listing.decode("utf-8", "surrogateescape").split("\0") if name})


def _walked_files(root: Path) -> Iterable[str]:
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name != ".git"]
        for name in files:
            yield (Path(folder) / name).relative_to(root).as_posix()


def read_text_file(path: Path, max_file_bytes: int) -> tuple[str, tuple[int, int]] | None:
    """The text of a regular, not oversized, not binary file (never through a symlink), with its stat signature."""
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_file_bytes:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return None
    return data.decode("utf-8", "replace"), (info.st_mtime_ns, info.st_size)


def is_test_path(path: str) -> bool:
    """A pytest test module by name: `test_*.py` or `*_test.py` (helpers such as conftest.py are not tests)."""
    name = PurePosixPath(path).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


class RepositoryIndex:
    """BM25 over the content tokens of every indexed file, plus a path boost."""

    def __init__(self, root: Path, *, max_file_bytes: int, listed_count: int) -> None:
        self.root = Path(root).resolve()
        self.max_file_bytes = max_file_bytes
        self.listed_count = listed_count
        self.files: dict[str, IndexedFile] = {}
        self.postings: dict[str, dict[str, int]] = {}
        self.path_postings: dict[str, set[str]] = {}
        self.definition_postings: dict[str, set[str]] = {}
        self.total_length = 0

    @classmethod
    def build(cls, root: Path, *, max_file_bytes: int = 1_000_000) -> RepositoryIndex:
        paths = listed_files(Path(root))
        index = cls(root, max_file_bytes=max_file_bytes, listed_count=len(paths))
        for path in paths:
            index._add(path)
        return index

    # -- keeping the index current ----------------------------------------------------------
    def refresh(self, paths: Iterable[str]) -> None:
        """Read changed files again; a path that is gone (or no longer a text file) leaves the index."""
        for path in self.stale(paths):
            self._remove(path)
            self._add(path)

    def stale(self, paths: Iterable[str]) -> list[str]:
        """The given paths whose file on disk differs from what the index holds."""
        changed = []
        for path in dict.fromkeys(paths):
            try:
                info = (self.root / path).lstat()
                signature: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
            except OSError:
                signature = None
            indexed = self.files.get(path)
            if (indexed.signature if indexed else None) != signature:
                changed.append(path)
        return changed

    def _add(self, path: str) -> None:
        read = read_text_file(self.root / path, self.max_file_bytes)
        if read is None:
            return
        text, signature = read
        counts = term_counts(text)
        indexed = IndexedFile(counts, sum(counts.values()), path_terms(path), definition_terms(text), signature)
        self.files[path] = indexed
        self.total_length += indexed.length
        for term, count in counts.items():
            self.postings.setdefault(term, {})[path] = count
        for term in indexed.path_terms:
            self.path_postings.setdefault(term, set()).add(path)
        for term in indexed.definition_terms:
            self.definition_postings.setdefault(term, set()).add(path)

    def _remove(self, path: str) -> None:
        indexed = self.files.pop(path, None)
        if indexed is None:
            return
        self.total_length -= indexed.length
        for term in indexed.term_counts:
            self.postings[term].pop(path, None)
        for term in indexed.path_terms:
            self.path_postings[term].discard(path)
        for term in indexed.definition_terms:
            self.definition_postings[term].discard(path)

    # -- searching ----------------------------------------------------------------------------
    def search(self, query: str, *, limit: int = 10, path_glob: str | None = None) -> list[SearchHit]:
        terms = query_terms(query)
        scores = self._scores(terms, path_glob)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[: max(0, limit)]
        return [SearchHit(path, round(score, 3), self._best_lines(path, terms)) for path, score in ranked]

    def _scores(self, terms: list[QueryTerm], path_glob: str | None) -> dict[str, float]:
        count = max(1, len(self.files))
        average_length = max(1.0, self.total_length / count)
        scores: dict[str, float] = {}
        for query_term in terms:
            postings = self.postings.get(query_term.term, {})
            rarity = _idf(count, len(postings))
            for path, frequency in postings.items():
                length_norm = 1 - BM25_B + BM25_B * self.files[path].length / average_length
                gain = rarity * frequency * (BM25_K1 + 1) / (frequency + BM25_K1 * length_norm)
                scores[path] = scores.get(path, 0.0) + query_term.weight * gain
            for postings_by_field, field_weight in (
                (self.path_postings, PATH_WEIGHT),
                (self.definition_postings, DEFINITION_WEIGHT),
            ):
                field_hits = postings_by_field.get(query_term.term, set())
                field_rarity = _idf(count, len(field_hits))
                for path in field_hits:
                    scores[path] = scores.get(path, 0.0) + field_weight * query_term.weight * field_rarity
        if path_glob:
            scores = {path: score for path, score in scores.items() if matches_glob(path, path_glob)}
        return scores

    def _best_lines(self, path: str, terms: list[QueryTerm]) -> tuple[tuple[int, str], ...]:
        read = read_text_file(self.root / path, self.max_file_bytes)
        if read is None:
            return ()
        count = max(1, len(self.files))
        weights = {term.term: term.weight * _idf(count, len(self.postings.get(term.term, {}))) for term in terms}
        text = read[0]
        lines = text.split("\n")
        scored: list[tuple[float, int, str]] = []
        for index in candidate_line_indexes(text, weights):
            present = set(text_terms(lines[index])) & weights.keys()
            if present:
                scored.append((sum(weights[term] for term in present), index + 1, lines[index]))
        best = sorted(scored, key=lambda item: (-item[0], item[1]))[:LINES_PER_HIT]
        return tuple((number, _short(line)) for _, number, line in sorted(best, key=lambda item: item[1]))

    # -- the map for the prompt -----------------------------------------------------------------
    def repository_map(self, query: str, *, max_chars: int = 6000) -> str:
        lines = [
            f"Repository: {self.listed_count} files, {len(self.files)} of them indexed text files.",
            "Top folders: " + ", ".join(f"{folder} ({count})" for folder, count in self._top_folders()),
            "Files most relevant to the issue (definitions with line numbers, and the tests that exercise them):",
        ]
        for hit in self.search(query, limit=MAP_FILES):
            lines.append(f"- {hit.path}")
            definitions = python_definitions(self.root / hit.path, self.max_file_bytes)
            lines += [f"    {definition}" for definition in definitions[:MAP_DEFINITIONS_PER_FILE]]
            if len(definitions) > MAP_DEFINITIONS_PER_FILE:
                lines.append(f"    ... and {len(definitions) - MAP_DEFINITIONS_PER_FILE} more definitions")
            tests = self.tests_for(hit.path)
            if tests:
                lines.append("    tested by: " + ", ".join(tests))
        return _within(lines, max_chars)

    def _top_folders(self, limit: int = 8) -> list[tuple[str, int]]:
        folders = Counter(path.split("/", 1)[0] + "/" if "/" in path else "." for path in self.files)
        return folders.most_common(limit)

    def tests_for(self, path: str) -> list[str]:
        """Test files that import the Python module at `path` first, then those that name it."""
        module = PurePosixPath(path)
        if module.suffix != ".py" or is_test_path(path) or module.stem == "__init__":
            return []
        terms = identifier_terms(module.stem)
        if not terms:
            return []
        name_term = terms[0]  # the whole name when compound (`cart_service`), else its stemmed word (`model`)
        naming = sorted(test for test in self.postings.get(name_term, {}) if is_test_path(test) and test != path)
        naming += sorted(test for test in self.path_postings.get(name_term, set()) if is_test_path(test) and test not in naming)
        importing = [test for test in naming if imports_module(self.root / test, module, self.max_file_bytes)]
        ordered = importing + [test for test in naming if test not in importing]
        return ordered[:MAP_TESTS_PER_FILE]


def candidate_line_indexes(text: str, terms: Iterable[str]) -> list[int]:
    """Indexes of the lines holding the letters of a term (a stem ending in `y` also finds `ies`): only
    those are worth splitting into terms. One scan of the lowercased text, not one per line."""
    needles = sorted({term.removesuffix("y") or term for term in terms}, key=len, reverse=True)
    if not needles:
        return []
    lowered = text.lower()  # may change lengths, never the count of newlines before a position
    indexes: list[int] = []
    line, scanned = 0, 0
    for match in re.finditer("|".join(map(re.escape, needles)), lowered):
        line += lowered.count("\n", scanned, match.start())
        scanned = match.start()
        if not indexes or indexes[-1] != line:
            indexes.append(line)
    return indexes


def _idf(document_count: int, containing: int) -> float:
    return math.log(1 + (document_count - containing + 0.5) / (containing + 0.5))


def matches_glob(path: str, pattern: str) -> bool:
    """fnmatch on the whole path (`*` crosses folders), or on the file name when the pattern has no `/`."""
    return fnmatch.fnmatchcase(path, pattern) or ("/" not in pattern and fnmatch.fnmatchcase(PurePosixPath(path).name, pattern))


def _short(line: str) -> str:
    line = line.rstrip()
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " [...]"


def _within(lines: list[str], max_chars: int) -> str:
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > max_chars:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def _parse_python(path: Path, max_file_bytes: int) -> ast.Module | None:
    read = read_text_file(path, max_file_bytes)
    if read is None:
        return None
    try:
        return ast.parse(read[0])
    except (SyntaxError, ValueError):
        return None


def python_definitions(path: Path, max_file_bytes: int) -> list[str]:
    """Top-level classes (with their methods) and functions of a Python file, with line numbers."""
    if path.suffix != ".py":
        return []
    tree = _parse_python(path, max_file_bytes)
    if tree is None:
        return []
    definitions = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            methods = [item.name for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)]
            suffix = f": {', '.join(methods[:12])}" + (" ..." if len(methods) > 12 else "") if methods else ""
            definitions.append(f"class {node.name} (line {node.lineno}){suffix}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            definitions.append(f"def {node.name} (line {node.lineno})")
    return definitions


def imports_module(test_path: Path, module: PurePosixPath, max_file_bytes: int) -> bool:
    """Whether a test file imports `module` (given by its path): `import a.b.m`, `from a.b.m import x`, `from a.b import m`."""
    tree = _parse_python(test_path, max_file_bytes)
    if tree is None:
        return False
    stem = module.stem
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[-1] == stem for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom):
            source = (node.module or "").split(".")
            if source[-1] == stem or any(alias.name == stem for alias in node.names):
                return True
    return False


def git_changed_paths(root: Path, environment: Mapping[str, str] | None = None) -> list[str]:
    """Paths git sees as modified, added, deleted or untracked (not ignored) in the working tree."""
    try:
        status = subprocess.run(  # noqa: S603 - a fixed git invocation, no shell
            ["git", *SAFE_GIT_OPTIONS, "status", "--porcelain", "-z", "--untracked-files=all", "--no-renames"],  # noqa: S607
            cwd=root,
            # Only a look: git status must not take the index lock a command of the model's may want.
            env={**(os.environ if environment is None else environment), "GIT_OPTIONAL_LOCKS": "0"},
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    entries = status.decode("utf-8", "surrogateescape").split("\0")
    return [entry[3:] for entry in entries if len(entry) > 3]
