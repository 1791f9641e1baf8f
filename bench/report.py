"""Turn bench/results.json into bench/RESULTS.md (tables with medians, targets and ratios, plans, profile notes)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def coverage_section(c: dict | None) -> list[str]:
    """The section on bench/coverage.py's run: where and when, and what fell outside the targets."""
    if not c:
        return []
    m = c["machine"]
    runs = c.get("runs") or {}
    if len({(x["date"], x["seed"]) for x in runs.values()}) > 1:  # parts re-run on their own (--parts)
        when = "; ".join(f"{part} on {x['date']} (seed {x['seed']}, R = {x['reps']:,}, {x['seconds'] / 60:.1f} min"
                         f"{' for the whole run' if x.get('whole_run') else ''}, {x.get('machine', m)['cores']} "
                         f"cores, {x.get('machine', m)['cpu']})" for part, x in runs.items())
        head = f"`bench/coverage.py` (no database), its parts recorded separately: {when}."
    else:
        head = (f"`bench/coverage.py` (seed {c['seed']}, no database) on {c['date']}: {m['cores']} cores "
                f"({m['cpu']}), {c['seconds'] / 60:.1f} min; R = {c['reps']['interval']:,} per item-interval cell, "
                f"{c['reps']['did']:,} per DiD cell, {c['reps']['family']:,} per family scenario.")
    lines = ["## Interval coverage and FDR", "",
             ("Not run in this recording (`--skip-coverage`): the last recorded run, unchanged. "
              if c.get("carried_over") else "")
             + head + " The tables, each figure with its Monte Carlo error: [`bench/COVERAGE.md`](COVERAGE.md); "
             "what they mean for the methods: docs/methods.md §12.1.", "",
             "| method | target | cells outside | lowest | highest |", "|---|---|---|---|---|"]
    for row in c["summary"]:
        low, high = row["target"]
        target = f"≤ {100 * high:.0f} %" if low == 0 else f"{100 * low:.0f}–{100 * high:.0f} %"
        lines.append(f"| {row['method']} | {target} | {row['outside']} of {row['cells']} | "
                     f"{100 * row['lowest']:.1f} % | {100 * row['highest']:.1f} % |")
    return lines + [""]


def _durability(r: dict) -> str:
    d = r.get("durability") or r["submissions"].get("durability")
    if not d:
        return "not recorded (before 2026-12-07 the bench ran with fsync off)"
    production = all(v == "on" for v in d.values())
    return (("production — " if production else "NOT production — ")
            + ", ".join(f"{k} {v}" for k, v in d.items()))


def write_results(r: dict) -> None:
    m = r["machine"]
    s = r["submissions"]
    lines = [
        "# Benchmark results",
        "",
        f"Recorded by `make bench` on {r['date']} (medians of {r['args']['repeat']} runs unless said otherwise).",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB memory, {m['os']}; "
        f"Python {m['python']}, Django {m['django']}, PostgreSQL {m['postgresql']}, numpy {m['numpy']}, "
        f"pandas {m['pandas']}, {m['wrk']}. Load average at start: "
        f"{', '.join(f'{x:.2f}' for x in m['load_average_at_start'])} (a shared machine: figures are noisy). "
        f"Code: commit {m.get('commit', 'not recorded')}.",
        "",
        "Stack: `scripts/prod.sh` — gunicorn (2 × cores + 1 sync workers), PostgreSQL 15 (shared_buffers "
        "512 MB), Redis (cache, rate limits, Celery broker), one Celery worker; all on loopback. "
        f"**Durability: {_durability(r)}.** Every figure is measured with it unless a column or line says "
        "*test-grade*: the same server switched to fsync, synchronous_commit and full_page_writes off by a "
        "configuration reload, within the same run, then back (and a CHECKPOINT). A form post is answered "
        "(302) only after its transaction committed, in both (test-grade: committed, not yet on disk). "
        "Data: `bench/data.py`, seed 7; 20 % staff, 80 % customers; 22 Likert items in 7 dimensions plus 4 "
        "outcome items (≈ 25 answers per response, 3 % N/A); 7 segment fields; 2,000 accounts; weights.",
        "",
        "## Submissions through gunicorn",
        "",
        f"`wrk -t2 -c{r['args']['concurrency']} -d{r['args']['load_seconds']}s` on loopback; the form post is a "
        "complete customer form (26 answers) to the anonymous link, CSRF included, stored through "
        "`response_submit`.",
        "",
        "| what | durability | requests/s | p50 ms | p95 ms | p99 ms | errors | ratio to the ceiling |",
        "|---|---|---|---|---|---|---|---|",
    ]
    tg = s.get("test_grade")
    runs = [("trivial view `/bench/ping/` (ceiling)", "—", s["ping"], None),
            ("form post (submission)", "**production** (headline)", s["post"], s["ratio"])]
    if tg:
        runs.append(("form post (submission)", "test-grade", tg["post"], tg["ratio"]))
    for name, mode, rounds, ratio in runs:
        med = {k: sorted(x[k] for x in rounds)[len(rounds) // 2] for k in ("rps", "p50_ms", "p95_ms", "p99_ms")}
        errors = sum(sum(x["errors"].values()) for x in rounds)
        lines.append(f"| {name} | {mode} | {med['rps']:.0f} | {med['p50_ms']:.1f} | {med['p95_ms']:.1f} | "
                     f"{med['p99_ms']:.1f} | {errors} | {'—' if ratio is None else f'{ratio:.2f}'} |")
    lines += [
        "",
        f"With production durability: ratio submissions / ceiling **{s['ratio']:.2f}** (target ≥ 0.50: "
        f"{_ok(s['ratio'] >= 0.5)}); p99 {s['post_p99_ms']:.1f} ms (target < 100 ms: {_ok(s['post_p99_ms'] < 100)}); "
        f"errors {s['errors']} (target 0: {_ok(s['errors'] == 0)}). Rounds alternate the trivial view, durable "
        "posts and test-grade posts; per-round ratios, durable: "
        + ", ".join(f"{x:.2f}" for x in s["round_ratios"] if x is not None)
        + (("; test-grade: " + ", ".join(f"{x:.2f}" for x in tg["round_ratios"] if x is not None)
            + f" (median ratio {tg['ratio']:.2f}, p99 {tg['post_p99_ms']:.1f} ms)") if tg else "")
        + f". Stored responses: {s['stored_responses']} for {s['posted']} posts answered by wrk (wrk may count "
        "a request cut by the end of the run).",
    ]
    if "in_process" in s:
        ip = s["in_process"]
        lines += [
            "",
            f"In one process, without gunicorn (`bench/post_once.py`, {ip['posts']} of each, CSRF enforced): "
            f"a form post costs {ip['post_cpu_ms']:.2f} ms of CPU, the trivial view {ip['ping_cpu_ms']:.2f} ms "
            f"(ratio {ip['ratio']:.2f}); the post's profile is `bench/profile-post.txt`.",
        ]
    lines += [
        "",
        "## Gap analysis, bulk load",
        "",
        "Floor: `SELECT a.item_id, r.side, a.value, count(*) … JOIN surveys_surveyresponse … GROUP BY 1, 2, 3` "
        "on the same wave. *First read*: the full gap endpoint (all items, dimensions, alpha, multiplicity, "
        "segments) in a fresh process with the cache emptied and the wave's kept tables forgotten, so the whole "
        "wave is read (and its tables kept, reports.counts.kept). *Cold*: the same with the kept tables in the "
        "database (what every read costs once a wave has been read: the cache emptied, a fresh process). "
        "*New release*: after loading and publishing 1,000 more responses, a cold read (it reads that release "
        "only). *Kept counts*: the count tables cached and a new view (another language) computed from them. "
        "*Repeat*: the same request again over HTTP through gunicorn (result cached per data version). "
        "Peak memory: growth of the process's peak RSS during the request (first read / cold). Above "
        f"{r['args'].get('large', 1_000_000):,} responses the floor and the first read run once (minutes each).",
        "",
        "| responses | answers | bulk load | floor | first read | cold gap | cold / floor | new release | "
        "kept counts | HTTP repeat | peak memory |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    full = {n: e for n, e in r["sizes"].items() if "cold_median_s" in e}
    for n, e in r["sizes"].items():
        load = f"{e['load_s']:.1f} s ({e['load_rate']:,.0f}/s)" if e.get("load_rate") else "—"
        if n not in full:
            lines.append(f"| {int(n):,} | {e['answers']:,} | {load} | {e['floor_median_s']:.2f} s | not measured | "
                         "— | — | — | — | — | — |")
            continue
        first = f"{e['rescan_median_s']:.2f} s ({e['rescan_ratio']:.1f}×)" if "rescan_median_s" in e else "—"
        fresh = f"{e['new_release_s']:.2f} s" if "new_release_s" in e else "—"
        peak = (f"+{e['rescan_peak_increase_mb']:.0f} / +{e['peak_increase_mb']:.0f} MB"
                if "rescan_peak_increase_mb" in e else f"+{e['peak_increase_mb']:.0f} MB")
        if e.get("repeats", r["args"]["repeat"]) == 1 and r["args"]["repeat"] > 1:
            first += " (one run)"
        lines.append(
            f"| {int(n):,} | {e['answers']:,} | {load} | {e['floor_median_s']:.2f} s | {first} | "
            f"{e['cold_median_s']:.2f} s | {e['cold_ratio']:.2f}× | {fresh} | {e['kept_first_s']:.2f} s | "
            f"{e['http_repeat_median_s'] * 1000:.0f} ms | {peak} |")
    big = list(full.values())[-1]
    loads = {int(n): e["load_rate"] for n, e in r["sizes"].items() if e.get("load_rate")}
    tgl = r.get("test_grade_load")
    peaks = [max(e.get("rescan_peak_increase_mb", 0), e["peak_increase_mb"]) for e in full.values()]
    lines += [
        "",
        "*Bulk load*: `surveys.bulk.responses_bulk_load` (a binary COPY built by numpy) from `bench/data.py`'s "
        "column batches, the generator's own numpy work included in the time, answers packed in the rows, data "
        "version included, everything committed, with production durability. "
        + (f"Target ≥ 20,000 responses/s at the largest size — {_ok(loads[max(loads)] >= 20_000)} "
           f"({loads[max(loads)]:,.0f}/s). " if loads else "")
        + (f"Test-grade (fsync off), {tgl['responses']:,} responses into a wave of their own before the sizes: "
           f"{tgl['load_s']:.1f} s ({tgl['load_rate']:,.0f}/s)." if tgl else ""),
        "",
        f"Targets at the largest size ({big['responses']:,}): cold gap ≤ 0.5× the floor — "
        f"{_ok(big['cold_ratio'] <= 0.5)} ({big['cold_ratio']:.2f}×); repeated request < 50 ms — "
        f"{_ok(big['http_repeat_median_s'] < 0.05)} ({big['http_repeat_median_s'] * 1000:.0f} ms); peak memory "
        f"< 300 MB at every size — {_ok(max(peaks) < 300)} (largest +{max(peaks):.0f} MB).",
        "",
    ]
    pages = {n: e["mirror"] for n, e in r["sizes"].items() if e.get("mirror")}
    if pages:
        lines += [
            "## The web mirror page through gunicorn",
            "",
            "`GET /reports/waves/<id>/?lang=en` as a logged-in executive (session cookie), the whole page read. "
            "*Cold*: the first request with the cache emptied (counts computed from the answers, as the cold gap). "
            "*New view*: the page filtered to one customer tier, on the counts the cold request kept (what "
            "applying a filter costs). *Cached*: the unfiltered page again, its analysis cached per data version "
            f"(median of {len(next(iter(pages.values()))['repeat_s'])}).",
            "",
            "| responses | cold page | new view | cached page | page size |",
            "|---|---|---|---|---|",
        ]
        for n, p in pages.items():
            lines.append(f"| {int(n):,} | {p['cold_s']:.2f} s | {p['filtered_first_s']:.2f} s | "
                         f"{p['repeat_median_s'] * 1000:.0f} ms | {p['bytes'] / 1024:.0f} kB |")
        slowest = max(p["repeat_median_s"] for p in pages.values())
        lines += ["", f"Target: a cached wave's page in well under a second, cached page < 1 s at every size — "
                  f"{_ok(slowest < 1)} (slowest {slowest * 1000:.0f} ms).", ""]
    if r.get("pdf"):
        lines += [f"## PDF at {big['responses']:,} responses", "",
                  "| language | pages | engine | WeasyPrint | total | CPU: engine / WeasyPrint | load average |",
                  "|---|---|---|---|---|---|---|"]
        for lang, runs in r["pdf"].items():
            run = sorted(runs, key=lambda x: x["seconds"])[len(runs) // 2]
            cpu = (f"{run['engine_cpu_s']:.2f} s / {run['render_cpu_s']:.2f} s" if "render_cpu_s" in run
                   else "not recorded")
            lines.append(f"| {lang} | {run['pages']} | {run['engine_s']:.2f} s | {run['render_s']:.2f} s | "
                         f"{run['seconds']:.2f} s | {cpu} | {run.get('load', float('nan')):.1f} |")
        lines += ["", "Counts kept (the wave was analysed before); the one-off WeasyPrint import per worker "
                  "process is not included.", ""]
    caches = (r.get("caches") or {}).get("caches") or {}
    rows = [("frozen instruments (`surveys.selectors`)", "frozen_instruments", "post", "form post, CPU", "cpu"),
            ("frozen instruments (`surveys.selectors`)", "frozen_instruments", "get", "form GET, CPU", "cpu"),
            ("anonymous links' copy (`surveys.public.links`)", "recent_links", "post", "form post, CPU", "cpu"),
            ("count tables (`reports.counts`)", "wave_counts", "gap", "gap, new view, wall", "wall"),
            ("gap results (`reports.gap`)", "gap_results", "gap", "gap repeat vs new view, wall", "wall")]
    shown = [(label, caches[key], op, what, kind) for label, key, op, what, kind in rows
             if isinstance(caches.get(key), dict) and caches[key].get(op)]
    if shown:
        lines += ["## Process caches (`bench/caches.py --wave <largest>`, one process, medians of the rounds)", "",
                  "| cache (owner) | operation | with | without | ratio | saving |", "|---|---|---|---|---|---|"]
        def fmt(ms: float) -> str:
            return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"

        for label, entry, op, what, kind in shown:
            m = entry[op]
            lines.append(f"| {label} | {what} | {fmt(m[f'with_{kind}_ms'])} | {fmt(m[f'without_{kind}_ms'])} | "
                         f"{m[f'ratio_{kind}']:.2f}× | {fmt(m[f'saving_{kind}_ms'])} |")
        lines.append("")
    lines += coverage_section(r.get("coverage"))
    for n, e in r["sizes"].items():
        if e.get("explain_floor"):
            lines += [f"## EXPLAIN ANALYZE of the floor at {int(n):,} responses", "", "```", e["explain_floor"],
                      "```", ""]
    lines += [f"## EXPLAIN ANALYZE at {big['responses']:,} responses", "", "The floor:", "", "```",
              r.get("explain_floor", ""), "```",
              "", "The gap engine's one read (`reports.counts.pgcopy.packed_sql`: a row per response, answers packed):",
              "", "```",
              r.get("explain_counts", ""), "```", ""]
    notes = HERE / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().strip(), ""]
    lines += ["## Earlier hand measurements", "",
              "| date | machine | what | figure |", "|---|---|---|---|",
              "| 2026-11-23 | project machine (2 cores, shared; load average ≈ 3.2), SQLite | full executive PDF of "
              "the demo wave (260 responses, 13 pages) — `python bench/report_render.py --repeat 2` | ja 11.8 s, "
              "en 10.5 s (+ 2.5 s WeasyPrint import) |", ""]
    (HERE / "RESULTS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    write_results(json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else HERE / "results.json").read_text()))
