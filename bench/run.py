"""The benchmark suite (``make bench``): run inside ``bench/run.sh``, which starts and stops the production stack.

Measures on PostgreSQL, with fixed seeds: bulk-load rate; the bare GROUP BY
floor and the full gap endpoint (cold, kept counts, cached repeat) with peak
memory at each size; the executives' web mirror page through gunicorn (cold, a
new filtered view, cached repeat) at each size; the full PDF at the largest
size; submission throughput and latency through gunicorn against a trivial
view's ceiling; then the coverage of the statistical intervals and the false-discovery rate of the
classification (``bench/coverage.py``, CPU only; ``--skip-coverage`` leaves it out). Writes
``bench/RESULTS.md`` (and ``bench/results.json``, ``bench/profile-*.txt``; ``bench/COVERAGE.md`` and
``bench/coverage.json`` from the coverage run).

``bench/run.sh --only mirror --sizes 10000`` measures the mirror page alone
(printed as JSON; RESULTS.md and results.json untouched).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")
PY = sys.executable


NEW_RELEASE = 1_000  # responses of the release added after each size's gap figures


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def sub_json(args: list[str], env: dict | None = None) -> dict:
    out = subprocess.run([PY, *args], capture_output=True, text=True, cwd=ROOT, env=env or os.environ.copy())
    for line in out.stdout.splitlines():
        if line.startswith("JSON "):
            return json.loads(line[5:])
    raise RuntimeError(f"{args} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")


def machine() -> dict:
    mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
    cpu = next((x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
                if x.startswith("model name")), platform.processor())
    import django
    import numpy
    import pandas
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SHOW server_version")
        pg = c.fetchone()[0]
    wrk = (subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
           if shutil.which("wrk") else "wrk not installed")  # --only mirror runs without it
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem / 2**20, 1), "os": platform.platform(),
            "python": platform.python_version(), "django": django.get_version(), "postgresql": pg,
            "numpy": numpy.__version__, "pandas": pandas.__version__, "wrk": wrk.strip(),
            "load_average_at_start": os.getloadavg(), "commit": _commit()}


def _commit() -> str:
    """The code measured: the checkout's commit, with "+changes" when its tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + ("+changes" if dirty else "")


def timed_sql(sql: str, params: list, repeat: int) -> list[float]:
    from django.db import connection

    times = []
    with connection.cursor() as c:
        for _ in range(repeat):
            t = time.perf_counter()
            c.execute(sql, params)
            c.fetchall()
            times.append(time.perf_counter() - t)
    return times


# Since surveys migration 0017 surveys_answer is a view unpacking each response row's answers (surveys.packing), so
# this floor is a GROUP BY over the answers as SQL sees them now, no longer over a table of answer rows.
FLOOR_SQL = ("SELECT a.item_id, r.side, a.value, count(*) FROM surveys_answer a "
             "JOIN surveys_surveyresponse r ON r.id = a.response_id WHERE r.wave_id = %s GROUP BY 1, 2, 3")


def explain(sql: str, params: list) -> str:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(r[0] for r in c.fetchall())


def http_times(url: str, token: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        req = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as resp:
            resp.read()
            assert resp.status == 200
        times.append(time.perf_counter() - t)
    return times


MIRROR_CACHED_TARGET_S = 1.0  # issue 15: "a cached wave's page renders in well under a second"


def page_times(url: str, cookie: str, repeat: int) -> tuple[list[float], int]:
    """Wall times of ``repeat`` GETs of a web mirror page with a session cookie, whole body read, and its size.

    A lost session is answered by the log-in page after a redirect, still 200: the final path and the
    page's results region are checked, so that only the mirror itself is ever timed.
    """
    times, size = [], 0
    for _ in range(repeat):
        req = urllib.request.Request(url, headers={"Cookie": cookie})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as resp:
            body = resp.read()
            elapsed = time.perf_counter() - t
            if (resp.status != 200 or urlsplit(resp.url).path != urlsplit(url).path
                    or b'id="mirror-results"' not in body):
                raise RuntimeError(f"{url} answered {resp.status} at {resp.url}, not the mirror page")
        times.append(elapsed)
        size = len(body)
    return times, size


def mirror_page(base: str, wave, repeat: int = 5) -> dict:
    """The web mirror of ``wave`` through gunicorn as a logged-in executive (seconds).

    ``cold_s``: the first request with the cache emptied (counts computed from the answers, as the cold gap);
    ``filtered_first_s``: a new view (customers of one tier) on the counts that request kept, what applying a
    filter costs; ``repeat_s``: the unfiltered page again, its analysis cached per data version.
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    from surveys.models import Membership, Role

    user, _ = get_user_model().objects.get_or_create(username=f"bench-exec-{wave.organization.slug}")
    Membership.objects.get_or_create(user=user, organization=wave.organization, defaults={"role": Role.EXECUTIVE})
    client = Client()
    client.force_login(user)  # a session in the database, as logging in makes; gunicorn gets its cookie
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    url = f"{base}/reports/waves/{wave.pk}/?lang=en"
    cache.clear()
    (cold,), size = page_times(url, cookie, 1)
    (filtered,), _ = page_times(f"{url}&customer%3Atier=Enterprise", cookie, 1)
    repeated, _ = page_times(url, cookie, repeat)
    out = {"cold_s": cold, "filtered_first_s": filtered, "repeat_s": repeated, "repeat_median_s": median(repeated),
           "bytes": size, "target_s": MIRROR_CACHED_TARGET_S}
    out["met"] = out["repeat_median_s"] < MIRROR_CACHED_TARGET_S
    return out


def published_wave(n: int):
    """The bench wave of ``n`` responses (loaded if missing), everything in it published, as the main loop leaves it."""
    from bench.data import bench_wave
    from surveys.releases import publish_due

    wave, _ = bench_wave(n, seed=7)
    publish_due(wave)
    return wave


def wrk(url: str, seconds: int, conns: int, body_file: str | None = None, csrf: str = "") -> dict:
    env = os.environ.copy()
    if body_file:
        env.update(WRK_BODY_FILE=body_file, WRK_CSRF=csrf)
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s",
                          "-s", str(HERE / "wrk_report.lua"), url], capture_output=True, text=True, env=env)
    line = next(x for x in out.stdout.splitlines() if x.startswith("JSON "))
    return json.loads(line[5:])


DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


def durability_settings() -> dict:
    """The server's durability settings as this connection sees them."""
    from django.db import connection

    with connection.cursor() as c:
        out = {}
        for name in DURABILITY:
            c.execute(f"SHOW {name}")
            out[name] = c.fetchone()[0]
    return out


class durability:  # noqa: N801  (used as a context manager, like contextlib's)
    """Switch the running server to test-grade durability (all three off) for a block, and back.

    All three settings take effect on a configuration reload (every backend, gunicorn's kept connections
    included); a CHECKPOINT after switching back makes what was written meanwhile durable too.
    """

    def __init__(self, *, durable: bool) -> None:
        self.durable = durable

    def _set(self, value: str | None) -> None:
        from django.db import connection

        with connection.cursor() as c:
            for name in DURABILITY:
                c.execute(f"ALTER SYSTEM RESET {name}" if value is None else f"ALTER SYSTEM SET {name} = {value}")
            c.execute("SELECT pg_reload_conf()")
        time.sleep(1)  # backends apply the reload before their next statement; give the postmaster its turn
        expected = {n: "on" for n in DURABILITY} if value is None else {n: value for n in DURABILITY}
        for _ in range(50):
            if durability_settings() == expected:
                return
            time.sleep(0.1)
        raise RuntimeError(f"durability settings did not become {expected}: {durability_settings()}")

    def __enter__(self) -> None:
        self.before = durability_settings()
        if self.before != {n: "on" for n in DURABILITY}:
            raise RuntimeError(f"the bench expects production durability to start from, got {self.before}")
        if not self.durable:
            self._set("off")

    def __exit__(self, *exc) -> None:
        if not self.durable:
            self._set(None)
            from django.db import connection

            with connection.cursor() as c:
                c.execute("CHECKPOINT")


def post_summary(ping: list[dict], post: list[dict]) -> dict:
    """Medians of wrk's rounds of form posts, and their ratio to the trivial view's rounds of the same run."""
    out = {"ping": ping, "post": post, "ping_rps": median([p["rps"] for p in ping]),
           "post_rps": median([p["rps"] for p in post]),
           "post_p50_ms": median([p["p50_ms"] for p in post]), "post_p95_ms": median([p["p95_ms"] for p in post]),
           "post_p99_ms": median([p["p99_ms"] for p in post]),
           "post_errors": sum(sum(p["errors"].values()) for p in post)}
    out["ratio"] = out["post_rps"] / out["ping_rps"]
    out["round_ratios"] = [q["rps"] / p["rps"] if p["rps"] else None for p, q in zip(ping, post, strict=True)]
    return out


def coverage_summary(result: dict) -> dict:
    """What RESULTS.md says of bench/coverage.py's run (its own tables are in bench/COVERAGE.md)."""
    from bench.coverage import runs_of
    from bench.coverage_report import summary

    return {k: result[k] for k in ("date", "machine", "seed", "reps", "seconds")} | {
        "summary": summary(result), "runs": runs_of(result)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold-max", type=int, default=10_000_000,
                        help="largest size that gets the full gap measurements; larger sizes get load, floor and "
                             "EXPLAIN only")
    parser.add_argument("--large", type=int, default=1_000_000,
                        help="sizes above this get one run of the floor and of the first read (minutes each at "
                             "10M) instead of --repeat")
    parser.add_argument("--load-seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skip-coverage", action="store_true",
                        help="leave out bench/coverage.py (about 20-25 minutes on one core); RESULTS.md keeps the "
                             "last recorded coverage run, dated as it was")
    parser.add_argument("--test-grade-load", type=int, default=100_000,
                        help="responses loaded with test-grade durability (fsync off) for the bulk load's second "
                             "column, before the sizes (0: none)")
    parser.add_argument("--only", choices=["all", "submissions", "mirror"], default="all",
                        help="submissions: the load test alone; mirror: the web mirror page of each size's wave "
                             "alone (waves loaded if missing); printed as JSON (RESULTS.md and results.json untouched)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    # Read before this run overwrites results.json: RESULTS.md keeps the last coverage run under --skip-coverage
    # (from results.json, else from bench/coverage.json, which bench/coverage.py writes itself).
    previous_coverage = (json.loads((HERE / "results.json").read_text()).get("coverage")
                         if (HERE / "results.json").exists() else None)
    if previous_coverage is None and (HERE / "coverage.json").exists():
        previous_coverage = coverage_summary(json.loads((HERE / "coverage.json").read_text()))

    import django

    django.setup()
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from bench.data import bench_wave
    from surveys import services
    from surveys.models import Membership, Role, SurveyResponse

    base = os.environ["KAGAMI_WEB_URL"]
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                     "args": vars(args), "sizes": {}}
    results["durability"] = durability_settings()  # the headline's: production durability (bench/run.sh)
    log(f"machine: {results['machine']}; durability {results['durability']}")
    if args.only == "mirror":
        pages = {}
        for n in sizes:
            log(f"web mirror page at {n} responses (loading the wave if missing)")
            pages[str(n)] = mirror_page(base, published_wave(n))
            log(f"  {pages[str(n)]}")
        print("JSON " + json.dumps({"machine": results["machine"], "mirror": pages}, default=str))
        return

    # ---------------------------------------------------------------- submissions (on an empty database first)
    from bench.data import DEPARTMENTS  # noqa: F401
    from surveys.instruments.loader import builtin_instrument
    from surveys.models import Organization

    slug = f"bench-load-{int(time.time())}"  # a fresh wave each run, even on a kept database
    org = Organization.objects.create(name="Load", slug=slug, display_name_en="Load Co")
    wave = services.wave_create(organization=org, instrument=builtin_instrument(), name="Load", slug=slug)
    services.wave_open(wave=wave)
    warm_wave = services.wave_open(wave=services.wave_create(
        organization=org, instrument=builtin_instrument(), name="Load warm-up", slug=f"{slug}-warm-up"))
    items = services.survey_items(wave=wave, side="customer")
    csrf = secrets.token_hex(16)
    fields = [f"a_{i.key}={i.scale_max}" for i in items] + ["language=en", "comment=", f"csrfmiddlewaretoken={csrf}"]
    body = "&".join(fields)
    body_file = HERE / ".post-body.txt"
    body_file.write_text(body)
    # Warm every worker on both paths (their first post connects to PostgreSQL and Redis and reads the
    # instrument), and let workers that are still booting (post_worker_init imports the gap engine) finish
    # before anything is measured. The warm-up posts go to a wave of their own.
    wrk(f"{base}/bench/ping/", 5, args.concurrency)
    wrk(f"{base}/s/{warm_wave.slug}/customer/", 5, args.concurrency, str(body_file), csrf)
    # The headline is production durability (scripts/prod.sh starts PostgreSQL so, KAGAMI_PROD_DURABLE=1); the
    # test-grade figures (fsync off) are a second column of the same rounds, switched by a configuration reload.
    ping, post, post_tg = [], [], []
    for k in range(args.repeat):
        log(f"load test {k + 1}/{args.repeat}: trivial view, form posts durable, form posts test-grade "
            f"({args.load_seconds} s each)")
        ping.append(wrk(f"{base}/bench/ping/", args.load_seconds, args.concurrency))
        post.append(wrk(f"{base}/s/{wave.slug}/customer/", args.load_seconds, args.concurrency, str(body_file), csrf))
        with durability(durable=False):
            post_tg.append(wrk(f"{base}/s/{wave.slug}/customer/", args.load_seconds, args.concurrency,
                               str(body_file), csrf))
    body_file.unlink()
    stored = SurveyResponse.objects.filter(wave=wave).count()
    results["submissions"] = s = post_summary(ping, post) | {
        "durability": durability_settings(), "stored_responses": stored,
        "posted": sum(p["requests"] for p in post + post_tg), "test_grade": post_summary(ping, post_tg),
    }
    s["errors"] = sum(sum(p["errors"].values()) for p in post + post_tg + ping)
    tg = s["test_grade"]
    log(f"submissions (durable): {s['post_rps']:.0f}/s vs ping {s['ping_rps']:.0f}/s (ratio {s['ratio']:.2f}), "
        f"p99 {s['post_p99_ms']:.1f} ms; test-grade {tg['post_rps']:.0f}/s (ratio {tg['ratio']:.2f}), p99 "
        f"{tg['post_p99_ms']:.1f} ms; errors {s['errors']}, stored {stored} of {s['posted']}")
    log("profiling form posts in process (the same view, no gunicorn), against the trivial view")
    s["in_process"] = sub_json([str(HERE / "post_once.py"), "--wave", wave.slug,
                                "--profile", str(HERE / "profile-post.txt")])
    if args.only == "submissions":
        s["load_average_at_end"] = os.getloadavg()
        print("JSON " + json.dumps({"machine": results["machine"], "submissions": s}, default=str))
        return

    # ---------------------------------------------------------------- bulk load, test-grade (the second column)
    if args.test_grade_load:
        n = args.test_grade_load
        log(f"loading {n} responses with test-grade durability (fsync off), a wave of their own")
        with durability(durable=False):
            _, tg_s = bench_wave(n, seed=8, slug=f"bench-test-grade-{n}")
        results["test_grade_load"] = {"responses": n, "load_s": tg_s, "load_rate": n / tg_s}
        log(f"  loaded in {tg_s:.1f} s ({n / tg_s:.0f} responses/s)")

    # ---------------------------------------------------------------- data, floor, gap
    for n in sizes:
        log(f"loading {n} responses")
        def progress(k: int, n=n, done=[0]) -> None:  # noqa: B006  (a counter per size)
            done[0] += k
            if done[0] % 200_000 == 0 or done[0] == n:
                log(f"  {done[0]}/{n}")

        w, load_s = bench_wave(n, seed=7, progress=progress)
        from surveys.releases import publish_due

        began = time.perf_counter()
        publish_due(w)  # the first read publishes everything loaded (one UPDATE per side)
        publish_s = time.perf_counter() - began
        log(f"  first release published in {publish_s:.1f} s")
        with connection.cursor() as c:
            c.execute("VACUUM ANALYZE surveys_surveyresponse")  # the answers are in its rows (surveys.packing)
            c.execute("SELECT coalesce(sum(length(answers_packed) / 6), 0) FROM surveys_surveyresponse "
                      "WHERE wave_id = %s", [w.pk])
            answers = c.fetchone()[0]
        entry = {"wave": w.slug, "responses": n, "answers": answers, "load_s": load_s, "publish_s": publish_s,
                 "load_rate": n / load_s if load_s else None}
        log(f"  loaded in {load_s:.1f} s ({entry['load_rate'] or 0:.0f} responses/s); {answers} answers")
        reps = entry["repeats"] = args.repeat if n <= args.large else 1
        entry["floor_s"] = timed_sql(FLOOR_SQL, [w.pk], reps)
        entry["floor_median_s"] = median(entry["floor_s"])
        log(f"  floor: {entry['floor_s']}")
        if n > args.cold_max:
            entry["explain_floor"] = explain(FLOOR_SQL, [w.pk])
            results["sizes"][str(n)] = entry
            (HERE / "results.json").write_text(json.dumps(results, indent=1, default=str))
            continue
        # A wave's first read scans it and keeps its tables (reports.counts.kept); every later read with the
        # cache emptied starts from the kept tables. Both are measured, each in a fresh process.
        rescan = [sub_json([str(HERE / "gap_once.py"), "--wave", w.slug, "--cold", "--rescan"])
                  for _ in range(reps)]
        entry["rescan"] = rescan
        log(f"  first read (whole wave): {[round(c['seconds'], 2) for c in rescan]} s, "
            f"peak +{[round(c['peak_increase_mb']) for c in rescan]} MB")
        cold = [sub_json([str(HERE / "gap_once.py"), "--wave", w.slug, "--cold"]) for _ in range(args.repeat)]
        entry["cold"] = cold
        log(f"  cold gap: {[round(c['seconds'], 2) for c in cold]} s, "
            f"peak +{[round(c['peak_increase_mb']) for c in cold]} MB")
        kept = [sub_json([str(HERE / "gap_once.py"), "--wave", w.slug, "--lang", lang]) for lang in ("ja", "en", "ja")]
        entry["kept"] = kept  # counts kept, results not cached for "ja" the first time
        user, _ = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model().objects.get_or_create(
            username=f"bench-{w.organization.slug}")
        Membership.objects.get_or_create(user=user, organization=w.organization, defaults={"role": Role.ANALYST})
        token, _ = Token.objects.get_or_create(user=user)
        url = f"{base}/api/v1/waves/{w.pk}/gap/?segments=true&lang=en"
        entry["http_first_s"] = http_times(url, token.key, 1)[0]
        entry["http_repeat_s"] = http_times(url, token.key, 5)
        entry["cold_median_s"] = median([c["seconds"] for c in cold])
        entry["cold_ratio"] = entry["cold_median_s"] / entry["floor_median_s"]
        entry["rescan_median_s"] = median([c["seconds"] for c in rescan])
        entry["rescan_ratio"] = entry["rescan_median_s"] / entry["floor_median_s"]
        entry["rescan_peak_increase_mb"] = median([c["peak_increase_mb"] for c in rescan])
        entry["kept_first_s"] = kept[0]["seconds"]
        entry["peak_increase_mb"] = median([c["peak_increase_mb"] for c in cold])
        entry["http_repeat_median_s"] = median(entry["http_repeat_s"])
        log(f"  kept counts: {entry['kept_first_s']:.2f} s; http first {entry['http_first_s']:.3f} s, "
            f"repeat {entry['http_repeat_median_s'] * 1000:.1f} ms")
        entry["mirror"] = mirror = mirror_page(base, w)  # empties the cache first: after the gap figures
        log(f"  web mirror page: cold {mirror['cold_s']:.2f} s, new filtered view {mirror['filtered_first_s']:.2f} s, "
            f"cached {mirror['repeat_median_s'] * 1000:.0f} ms ({mirror['bytes'] // 1024} kB)")
        # Last for this size (it changes the wave): a new release of NEW_RELEASE responses, then a cold read,
        # which reads that release only.
        from bench.data import add_release

        entry["new_release_load_s"], entry["new_release_publish_s"] = add_release(w, NEW_RELEASE)
        entry["new_release"] = sub_json([str(HERE / "gap_once.py"), "--wave", w.slug, "--cold"])
        entry["new_release_s"] = entry["new_release"]["seconds"]
        log(f"  after a new release of {NEW_RELEASE}: cold gap {entry['new_release_s']:.2f} s")
        results["sizes"][str(n)] = entry
        (HERE / "results.json").write_text(json.dumps(results, indent=1, default=str))

    largest = results["sizes"][str(max(n for n in sizes if n <= args.cold_max))]
    wave_slug = largest["wave"]
    from surveys.models import Wave

    wid = Wave.objects.get(slug=wave_slug).pk
    results["explain_floor"] = explain(FLOOR_SQL, [wid])
    from reports.counts.pgcopy import packed_sql

    sql, params = packed_sql(Wave.objects.get(pk=wid))
    results["explain_counts"] = explain(sql, list(params))
    log("profiling a cold gap analysis at the largest size")
    once = str(HERE / "gap_once.py")
    sub_json([once, "--wave", wave_slug, "--cold", "--profile", str(HERE / "profile-gap-cold.txt")])
    sub_json([str(HERE / "gap_once.py"), "--wave", wave_slug, "--profile", str(HERE / "profile-gap-kept.txt")])
    log("PDF at the largest size (counts kept), ja and en")
    results["pdf"] = {lang: [sub_json([str(HERE / "gap_once.py"), "--wave", wave_slug, "--pdf", "--lang", lang])
                             for _ in range(max(1, args.repeat - 1))] for lang in ("ja", "en")}
    # Last: it empties the cache. Its form posts go to a wave of its own, so the measured wave never changes.
    log("process caches, each with and without it (bench/caches.py)")
    results["caches"] = sub_json([str(HERE / "caches.py"), "--wave", wave_slug])
    if not args.skip_coverage:
        log("interval coverage and FDR (bench/coverage.py, no database; writes bench/COVERAGE.md)")
        results["coverage"] = coverage_summary(sub_json([str(HERE / "coverage.py")]))
    elif previous_coverage:  # the previous recording's coverage run, with its own date
        results["coverage"] = previous_coverage | {"carried_over": True}
    (HERE / "results.json").write_text(json.dumps(results, indent=1, default=str))
    from bench.report import write_results

    write_results(results)
    log("wrote bench/RESULTS.md")


if __name__ == "__main__":
    main()
