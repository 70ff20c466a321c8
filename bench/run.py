"""Foundation benchmark: the assets API list at 100, 1,000 and 5,000 rows.

Runs in-process with Django's test client against a throwaway SQLite database in a
temporary FRONTLINE_VAR_DIR. For each table size it reports the queries per request
(which must not grow with the table: no N+1) and the median request time as a ratio
of the 100-row baseline measured in the same run. Absolute times depend on the
machine; the ratios and query counts are what to compare between runs.

    .venv/bin/python bench/run.py [--repeat 30] [--sizes 100,1000,5000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "foundation.json"
ENDPOINT = "/api/v1/assets/"
PAGE_SIZE = 100


def configure(var_dir: str) -> None:
    os.environ.update(
        {
            "FRONTLINE_VAR_DIR": var_dir,
            "DATABASE_URL": f"sqlite:///{var_dir}/bench.sqlite3",
            "FRONTLINE_ENV": "test",
            "DEBUG": "false",
            "AXES_ENABLED": "false",
            "DJANGO_SETTINGS_MODULE": "frontline.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(target: int, state: dict) -> None:
    """Grow the asset table to ``target`` rows, spread over 3 customers and 12 sites."""
    from frontline.sites.models import Asset, AssetCategory, AssetModel, Site
    from frontline.testing import factories as f

    if "sites" not in state:
        customers = [f.OrganizationFactory(name=f"基准客户 {i}") for i in range(3)]
        state["sites"] = [
            Site.objects.create(customer=customers[i % 3], name=f"基准站点 {i}", city="上海")
            for i in range(12)
        ]
        state["models"] = AssetModel.objects.bulk_create(
            [
                AssetModel(manufacturer=m, model=f"M-{i}", category=c)
                for i, (m, c) in enumerate(
                    [
                        ("Carrier", AssetCategory.CHILLER),
                        ("ABB", AssetCategory.SWITCHGEAR),
                        ("Vertiv", AssetCategory.UPS),
                        ("格力", AssetCategory.CRAC),
                    ]
                )
            ]
        )
        state["n"] = 0
    sites, models = state["sites"], state["models"]
    start = state["n"]
    rows = [
        Asset(
            site=sites[i % len(sites)],
            model=models[i % len(models)],
            name=f"{i}# 设备",
            serial=f"BENCH{i:08d}",
            location="B1 冷站",
        )
        for i in range(start, target)
    ]
    Asset.objects.bulk_create(rows, batch_size=1000)
    # Give some assets a parent on the same site so the serializer's parent path is exercised.
    parents = {a.site_id: a for a in Asset.objects.filter(parent__isnull=True).order_by("pk")[:12]}
    for site_id, parent in parents.items():
        Asset.objects.filter(
            site_id=site_id, parent__isnull=True, pk__gt=parent.pk, pk__lte=parent.pk + 48
        ).update(parent=parent)
    state["n"] = target


def measure(client, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = f"{ENDPOINT}?page_size={PAGE_SIZE}"
    for _ in range(3):  # warm caches and the query planner
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(
                f"GET {url} answered {response.status_code}: {response.content[:300]!r}"
            )
    timings, queries = [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
        queries.add(len(captured))
    body = response.json()
    timings.sort()
    return {
        "rows_in_table": body.get("count"),
        "rows_returned": len(body.get("results", [])),
        "queries": sorted(queries),
        "median_ms": round(statistics.median(timings) * 1000, 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--sizes", default="100,1000,5000")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as var_dir:
        configure(var_dir)
        from django.core.management import call_command
        from django.test import Client

        from frontline.accounts.roles import Role
        from frontline.testing import factories as f

        call_command("migrate", verbosity=0)
        viewer = f.member(Role.DISPATCHER, email="bench@example.com")
        client = Client()
        client.force_login(viewer)

        state: dict = {}
        rows = []
        for size in sizes:
            seed(size, state)
            rows.append({"size": size, **measure(client, args.repeat)})

    baseline = rows[0]["median_ms"]
    for row in rows:
        row["ratio_vs_baseline"] = round(row["median_ms"] / baseline, 2)
    constant = len({tuple(r["queries"]) for r in rows}) == 1 and all(
        len(r["queries"]) == 1 for r in rows
    )

    print(f"GET {ENDPOINT}?page_size={PAGE_SIZE} as a dispatcher, {args.repeat} requests per size")
    print(
        f"{'rows':>6} {'returned':>8} {'queries':>8} {'median ms':>10} {'p95 ms':>8} {'× baseline':>11}"
    )
    for r in rows:
        q = ",".join(map(str, r["queries"]))
        print(
            f"{r['size']:>6} {r['rows_returned']:>8} {q:>8} {r['median_ms']:>10.2f} "
            f"{r['p95_ms']:>8.2f} {r['ratio_vs_baseline']:>11.2f}"
        )
    print("queries per request constant:", "yes" if constant else "NO")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "foundation/assets-api-list",
                "endpoint": ENDPOINT,
                "page_size": PAGE_SIZE,
                "repeat": args.repeat,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "queries_constant": constant,
                "rows": rows,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(main())
