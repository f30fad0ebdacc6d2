"""How different two candidates' forms are, and how long assembly takes, on the shipped bank.

    .venv/bin/python -m benchmarks.forms [--forms 200]

For each tier: the mean, 95th percentile and largest share of items two forms have in common,
and the time to assemble one form (pure assembly, no database).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

from exam_service.bank.assembly import assemble, pool_of
from exam_service.bank.loader import load_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", type=int, default=200)
    parser.add_argument("--bank", type=Path, default=Path("question_bank"))
    args = parser.parse_args()
    loaded = load_path(args.bank)
    if loaded.errors:
        raise SystemExit("\n".join(map(str, loaded.errors)))
    for blueprint in loaded.blueprints:
        pool = pool_of(s.item for s in loaded.items if s.item.tier == blueprint.tier)
        started = time.perf_counter()
        forms = [assemble(blueprint, pool, seen=set(), seed=seed) for seed in range(args.forms)]
        per_form_ms = (time.perf_counter() - started) * 1000 / args.forms
        sets = [{a.item.item_id for a in form} for form in forms]
        size = len(sets[0])
        shared = sorted(len(a & b) / size for a, b in itertools.combinations(sets, 2))
        print(
            f"{blueprint.id}: {size} items from a pool of {len(pool)}; items shared by two forms: "
            f"mean {statistics.mean(shared):.0%}, p95 {shared[int(len(shared) * 0.95)]:.0%}, max {shared[-1]:.0%}; "
            f"assembly {per_form_ms:.2f} ms/form"
        )


if __name__ == "__main__":
    main()
