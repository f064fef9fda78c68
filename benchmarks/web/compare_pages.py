"""Print two ``bench_pages.py --json`` runs side by side (demo size and network size)."""

from __future__ import annotations

import json
import sys


def main(paths: list[str]) -> int:
    runs = [json.load(open(p, encoding="utf-8")) for p in paths]  # noqa: SIM115
    by_page = [{r["page"]: r for r in run["rows"]} for run in runs]
    head = "".join(f"{run['label'] + ' (' + format(run['patients'], ',') + ' patients)':>33}" for run in runs)
    print(f"{'':<28}{head}")
    print(f"{'page':<28}" + f"{'p50 ms':>8}{'p95 ms':>8}{'cpu p95':>8}{'queries':>9}" * len(runs))
    worst = 0.0
    for page in by_page[0]:
        cells = ""
        for rows in by_page:
            row = rows.get(page)
            if row is None:
                cells += f"{'-':>8}" * 3 + f"{'-':>9}"
                continue
            worst = max(worst, row["p95"])
            cells += f"{row['p50']:>8.1f}{row['p95']:>8.1f}{row.get('cpu95', 0):>8.1f}{row['queries']:>9}"
        print(f"{page:<28}{cells}")
    verdict = "within" if worst < 200 else "OVER"
    print(f"slowest p95 of any page at any size: {worst:.1f} ms ({verdict} the 200 ms budget)")
    return 0 if worst < 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
