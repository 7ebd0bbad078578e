"""Search benchmark: the search part of a run at SF1, and LLM classification throughput.

1. Generates June + July search logs at SF1 once (61 day folders × 80 k rows, cached under
   benchmarks/.cache), then times ``c360 run --search`` on them, cold (every folder ingested)
   and warm (nothing new), each in its own process.
2. Starts a local OpenAI-compatible server that answers every request after 200 ms and times
   ``c360 classify`` on 40,000 keywords at concurrency 8 × batch 100: the ceiling is
   8 × 100 / 0.2 s = 4,000 keywords/s.

    python benchmarks/search_pipeline.py --repeat 3
"""

from __future__ import annotations

import argparse
import shutil
import sys
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path

from _harness import CACHE, ROOT, Measurement, machine, measure, median, write_section

BIN = Path(sys.executable).parent
SEED = 42
DAYS = 61
LATENCY_S = 0.2
CONCURRENCY, BATCH = 8, 100
KEYWORDS = 40_000


def ensure_search(scale: float) -> tuple[Path, Path, int]:
    """The cached search folders and a one-day content folder; returns them and the row count."""
    from c360.generate.content_logs import write_content_day
    from c360.generate.population import make_population
    from c360.generate.search_logs import ROWS_PER_DAY_SF1, write_search_day

    root = CACHE / f"search-sf{scale:g}-seed{SEED}-v1"
    search, content = root / "log_search", root / "log_content"
    rows = round(ROWS_PER_DAY_SF1 * scale)
    population = make_population(200_000, seed=SEED)
    if not (root / "done").exists():
        shutil.rmtree(root, ignore_errors=True)
        for i in range(DAYS):
            day = date(2022, 6, 1) + timedelta(days=i)
            print(f"generating search {day}", flush=True)
            write_search_day(search, day, population, rows=rows, seed=SEED)
        write_content_day(content, date(2022, 7, 31), population, lines=10_000, seed=SEED)
        (root / "done").write_text("")
    return search, content, rows * DAYS


def _fake_llm() -> AbstractContextManager[tuple[object, str]]:
    """The tests' fake OpenAI-compatible server (``tests/_fake_llm.py``), answering every request
    after ``LATENCY_S``; yields its state and its base URL."""
    sys.path.append(str(ROOT / "tests"))
    from _fake_llm import serve_fake_llm

    return serve_fake_llm(delay_s=LATENCY_S)


CLASSIFY = """
import sys, time
from pathlib import Path
from c360.enrich.llm import LLMClassifier, LLMSettings
from c360.enrich.store import AnswerStore
keywords = [f"keyword {i}" for i in range(int(sys.argv[3]))]
concurrency, batch = int(sys.argv[4]), int(sys.argv[5])
settings = LLMSettings(sys.argv[1], "bench", concurrency=concurrency, batch_size=batch)
report = LLMClassifier(settings, AnswerStore(Path(sys.argv[2]))).classify(keywords)
assert report.answered == len(keywords), report
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    search, content, rows = ensure_search(args.scale)
    work = CACHE / "search-work"
    run = [str(BIN / "c360"), "run", "--content", str(content), "--search", str(search)]
    run += ["--lake", str(work / "lake"), "--warehouse", str(work / "c360.duckdb")]
    cold: list[Measurement] = []
    warm: list[Measurement] = []
    classify: list[Measurement] = []
    with _fake_llm() as (_, url):
        for i in range(args.repeat):
            shutil.rmtree(work, ignore_errors=True)
            cold.append(measure(run))
            warm.append(measure(run))
            store = work / f"answers-{i}.sqlite"
            command = [sys.executable, "-c", CLASSIFY, url, str(store), str(KEYWORDS)]
            classify.append(measure([*command, str(CONCURRENCY), str(BATCH)]))
            print(
                f"round {i + 1}: cold {cold[-1].wall_s:.1f}s warm {warm[-1].wall_s:.1f}s "
                f"classify {classify[-1].wall_s:.1f}s",
                flush=True,
            )

    info = machine()
    ceiling = CONCURRENCY * BATCH / LATENCY_S
    rate = KEYWORDS / median([m.wall_s for m in classify])
    table = "\n".join(
        [
            "| step | wall s (median) | CPU s | peak RSS MB | throughput |",
            "|---|---|---|---|---|",
            _row("`c360 run --search`, cold: 61 day folders → every table", cold, rows, "rows"),
            _row("the same run again (nothing new to ingest)", warm, rows, "rows"),
            _row(f"classify {KEYWORDS:,} keywords, {CONCURRENCY} × {BATCH}, 200 ms answers",
                 classify, KEYWORDS, "keywords"),
        ]
    )  # fmt: skip
    markdown = f"""
## Search pipeline and classification (`benchmarks/search_pipeline.py`)

Measured {info["date"]} on {info["cores"]} cores / {info["ram_gb"]} GB RAM, scale
{args.scale:g}: June + July, {DAYS} day folders, {rows:,} search rows (plus one small content
day); median of {args.repeat}, each step in its own process (start-up included).
Classification against a local OpenAI-compatible server answering every request in 200 ms:
{rate:,.0f} keywords/s, {rate / ceiling:.0%} of the {ceiling:,.0f} keywords/s ceiling
(target ≥ 80 %).

{table}
"""
    results = {
        "machine": info,
        "rows": rows,
        "cold_s": [m.wall_s for m in cold],
        "warm_s": [m.wall_s for m in warm],
        "classify_s": [m.wall_s for m in classify],
        "classify_keywords_per_s": rate,
        "classify_share_of_ceiling": rate / ceiling,
    }
    write_section("search_pipeline", markdown, results)
    print(markdown)


def _row(label: str, runs: list[Measurement], count: int, unit: str) -> str:
    wall = median([m.wall_s for m in runs])
    return (
        f"| {label} | {wall:.1f} | {median([m.cpu_s for m in runs]):.1f} | "
        f"{median([m.peak_rss_mb for m in runs]):,.0f} | {count / wall:,.0f} {unit}/s |"
    )


if __name__ == "__main__":
    main()
