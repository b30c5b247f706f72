"""`make bench`: run every benchmark and print each next to its same-run baseline."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description="ourvoice benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "only", nargs="*", help="engine telegram summary admin paper broadcast (default: all available)"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    plan = {
        "engine": ("bench.engine_bench", {"people": 40} if args.quick else {}),
        "telegram": ("bench.telegram_bench", {"participants": 300} if args.quick else {}),
        "summary": ("bench.summary_bench", {"sizes": (20_000, 100_000)} if args.quick else {}),
        "admin": ("bench.admin_bench", {"responses": 100_000} if args.quick else {}),
        "paper": ("bench.paper_bench", {"people": 1_000} if args.quick else {}),
        "broadcast": ("bench.broadcast_bench", {"people": 1_000} if args.quick else {}),
    }
    for name, (module, kwargs) in plan.items():
        if args.only and name not in args.only:
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError:
            print(f"{name}: not available", flush=True)
            continue
        result = mod.run(**kwargs)
        print(f"{name}: {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
