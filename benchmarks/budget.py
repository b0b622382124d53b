"""The budget model of the GPU profile (issue: Colab): every notebook's time and peak GPU memory on a free Colab
T4, ESTIMATED from counted FLOPs and activation sizes (kit.budget), never measured here. Writes
``results/budget.json``; ``tests/test_budget.py`` keeps the t4 profile within 20 minutes and 13 GiB per notebook,
and ``make gpu-check`` on a real GPU measures what this predicts.

    python benchmarks/budget.py [--profile t4] [--out results/budget.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit import budget  # noqa: E402
from kit.env import environment  # noqa: E402
from kit.profiles import profile  # noqa: E402

LIMIT_MINUTES, LIMIT_GIB = 20.0, 13.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="t4")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "budget.json")
    args = ap.parse_args(argv)
    P = profile(args.profile)
    est = budget.estimate(P)
    env = environment(P)
    env["hardware"] = est.pop("hardware")  # the T4 the estimate is for; this machine only counted
    import dataclasses

    doc = {"profile_values": json.loads(json.dumps(dataclasses.asdict(P), default=str)), "summary": {"profile": P.name, "max_est_minutes": est["max_est_minutes"], "max_peak_gib": est["max_peak_gib"],
                       "limit_minutes": LIMIT_MINUTES, "limit_gib": LIMIT_GIB, "label": "estimate (budget model), not a measurement"},
           **est, **{k: v for k, v in env.items() if k not in ("profile",)}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2))
    for nb, b in est["notebooks"].items():
        print(f"{nb:<26} est. {b['est_minutes']:5.1f} min, peak {b['peak_gib']:4.1f} GiB")
    print(f"wrote {args.out}")
    over = [nb for nb, b in est["notebooks"].items() if b["est_minutes"] > LIMIT_MINUTES or b["peak_gib"] > LIMIT_GIB]
    if over:
        print(f"OVER BUDGET at {P.name}: {over}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
