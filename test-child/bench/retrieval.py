"""Time the Developer's retrieval on a generated repository: index build, search, repository map, refresh.

The repository is the one the retrieval test uses (paths that say nothing, a shared made-up vocabulary,
one module the issue is about), written to a temporary folder. Targets on a 2-core machine with 2,000
files: build under 2 s, a search under 100 ms. Usage: python bench/retrieval.py [files] [rounds]

`python bench/retrieval.py --folder DIR "query" ...` times the same steps on a real folder instead.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from osorganicai.developer.retrieval import RepositoryIndex  # noqa: E402
from tests.test_retrieval import ISSUE, write_synthetic_repository  # noqa: E402

QUERIES = (ISSUE, "apply_discount", "CartService total", "loyalty discount rounding percentage cart", "price order tax")


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def bench_folder(folder: Path, queries: list[str]) -> None:
    build_seconds, index = timed(lambda: RepositoryIndex.build(folder))
    assert isinstance(index, RepositoryIndex)
    size = sum((folder / path).stat().st_size for path in index.files)
    print(f"folder: {folder}, listed: {index.listed_count}, indexed: {len(index.files)} ({size / 1e6:.1f} MB of text)")
    print(f"build: {build_seconds:.3f} s")
    for query in queries:
        seconds, hits = timed(lambda query=query: index.search(query))
        first = hits[0].path if isinstance(hits, list) and hits else "-"
        print(f"search {query!r}: {seconds * 1000:.1f} ms, first hit {first}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--folder":
        bench_folder(Path(sys.argv[2]), sys.argv[3:] or ["timeout retry connection"])
        return
    file_count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as folder:
        repository = write_synthetic_repository(Path(folder), file_count=file_count)
        builds = [timed(lambda: RepositoryIndex.build(repository.root)) for _ in range(rounds)]
        index = builds[-1][1]
        assert isinstance(index, RepositoryIndex)
        searches = [timed(lambda query=query: index.search(query))[0] for _ in range(rounds) for query in QUERIES]
        maps = [timed(lambda: index.repository_map(ISSUE))[0] for _ in range(rounds)]
        edited = repository.root / repository.target_module
        edited.write_text(edited.read_text() + "\n# edited\n")
        refresh_seconds, _ = timed(lambda: index.refresh([repository.target_module]))
        first = index.search(ISSUE)[0].path

    build_times = [seconds for seconds, _ in builds]
    print(f"files: {file_count}, indexed: {len(index.files)}, rounds: {rounds}")
    print(f"build: median {statistics.median(build_times):.3f} s, max {max(build_times):.3f} s")
    print(f"search: median {statistics.median(searches) * 1000:.1f} ms, max {max(searches) * 1000:.1f} ms")
    print(f"repository map: median {statistics.median(maps) * 1000:.1f} ms")
    print(f"refresh of one edited file: {refresh_seconds * 1000:.2f} ms")
    print(f"first hit for the issue: {first} (expected {repository.target_module})")


if __name__ == "__main__":
    main()
