"""Where a request's CPU goes through the running stack: the web workers, PostgreSQL, Redis and wrk (JSON on stdout).

    export KAGAMI_PROD_DIR=/tmp/kagami-x KAGAMI_PROD_DURABLE=1 DJANGO_SETTINGS_MODULE=bench.settings_bench
    scripts/prod.sh start; source $KAGAMI_PROD_DIR/env
    python bench/post_cpu.py [--seconds 10] [--rounds 3] [--concurrency 16] [--base URL --gunicorn-pid FILE]

Runs wrk against the trivial view and against the form posts of a fresh open wave, round by round
(trivial view, then posts, so each pair shares the machine's load), and reads each process group's
CPU time (utime + stime in /proc/<pid>/stat) before and after each run: the gunicorn workers
(children of the master in $KAGAMI_PROD_DIR/gunicorn.pid), every PostgreSQL process (the postmaster's
children: backends, WAL writer, checkpointer, ...), Redis, and wrk itself. Divided by the requests
served, that is each component's CPU per request; the rest of a request's wall time is waiting
(fsync, the other processes, the run queue of a shared machine). Processes that end during a run (a
backend whose connection closed, a replaced worker) are counted through their parent's cutime/cstime.
``--base`` and ``--gunicorn-pid`` measure another gunicorn on the same database and Redis (another worker
class, another checkout) the same way. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, CPU seconds of the process, CPU seconds of its children that ended and were waited for)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                out.setdefault(st[0], []).append(int(entry))
    return out


def cpu(prod_dir: Path, gunicorn_pid: Path | None = None) -> dict[str, float]:
    """CPU seconds so far of each component: its parent process, the children alive now, and the children
    that ended (the parent's cutime and cstime: PostgreSQL backends and gunicorn workers come and go)."""
    children = _children()
    parents = {"web": int((gunicorn_pid or prod_dir / "gunicorn.pid").read_text()),
               "postgresql": int((prod_dir / "pg" / "postmaster.pid").read_text().split()[0]),
               "redis": int((prod_dir / "redis.pid").read_text())}
    out = {}
    for name, parent in parents.items():
        st = _stat(parent)
        out[name] = st[1] + st[2] + sum(c[1] for p in children.get(parent, []) if (c := _stat(p)) is not None)
    return out


def wrk_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measured(prod_dir: Path, gunicorn_pid: Path | None, run) -> dict:
    before, wrk_before, wall = cpu(prod_dir, gunicorn_pid), wrk_cpu(), time.monotonic()
    out = run()
    after, wall = cpu(prod_dir, gunicorn_pid), time.monotonic() - wall
    n = out["requests"]
    spent = {k: after[k] - before[k] for k in before} | {"wrk": wrk_cpu() - wrk_before}
    out["cpu_ms_per_request"] = {k: round(v / n * 1000, 3) for k, v in spent.items()}
    out["cpu_ms_per_request"]["total"] = round(sum(spent.values()) / n * 1000, 3)
    out["machine_busy"] = round(sum(spent.values()) / wall / os.cpu_count(), 3)  # this stack's share of the cores
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--wave", help="post to this open wave (default: a fresh one)")
    parser.add_argument("--base", help="another gunicorn of the same stack, e.g. another worker class "
                                       "(default: $KAGAMI_WEB_URL)")
    parser.add_argument("--gunicorn-pid", type=Path, help="that gunicorn's pid file")
    args = parser.parse_args()

    import django

    django.setup()
    from bench.run import wrk
    from surveys import services
    from surveys.instruments.loader import builtin_instrument
    from surveys.models import Organization, Wave

    prod_dir = Path(os.environ.get("KAGAMI_PROD_DIR", "/tmp/kagami-prod"))
    base = args.base or os.environ["KAGAMI_WEB_URL"]
    if args.wave:
        wave = Wave.objects.get(slug=args.wave)
    else:
        slug = f"bench-cpu-{int(time.time())}"
        org = Organization.objects.create(name="Load", slug=slug, display_name_en="Load Co")
        wave = services.wave_open(wave=services.wave_create(
            organization=org, instrument=builtin_instrument(), name="Load", slug=slug))
    csrf = secrets.token_hex(16)
    items = services.survey_items(wave=wave, side="customer")
    body = "&".join([f"a_{i.key}={i.scale_max}" for i in items] + ["language=en", "comment=",
                                                                    f"csrfmiddlewaretoken={csrf}"])
    body_file = HERE / f".post-cpu-body-{os.getpid()}.txt"
    body_file.write_text(body)
    url = f"{base}/s/{wave.slug}/customer/"
    try:
        wrk(f"{base}/bench/ping/", 3, args.concurrency)  # warm both paths in every worker
        wrk(url, 3, args.concurrency, str(body_file), csrf)
        rounds = []
        for _ in range(args.rounds):
            ping = measured(prod_dir, args.gunicorn_pid,
                            lambda: wrk(f"{base}/bench/ping/", args.seconds, args.concurrency))
            post = measured(prod_dir, args.gunicorn_pid,
                            lambda: wrk(url, args.seconds, args.concurrency, str(body_file), csrf))
            rounds.append({"ping": ping, "post": post, "ratio": post["rps"] / ping["rps"],
                           "load_average": os.getloadavg()})
            print(f"ping {ping['rps']:.0f}/s {ping['cpu_ms_per_request']} | post {post['rps']:.0f}/s "
                  f"p99 {post['p99_ms']:.0f} ms {post['cpu_ms_per_request']} | ratio {rounds[-1]['ratio']:.2f} "
                  f"| load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    finally:
        body_file.unlink(missing_ok=True)
    print("JSON " + json.dumps({"wave": wave.slug, "rounds": rounds}))


if __name__ == "__main__":
    main()
