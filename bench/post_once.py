"""Form posts in one process, profiled: where a submission's time goes, against the trivial view (JSON on stdout).

    python bench/post_once.py --wave bench-load-… [--posts 300] [--profile out.txt]

The posts go through the full Django stack (every middleware, CSRF enforced,
the real form view and ``response_submit``) with the test client, so the
figures leave out gunicorn and the network; the trivial view ``/bench/ping/``
is timed the same way, in the same process, for the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wave", required=True)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--profile")
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client

    from surveys import services
    from surveys.models import SurveyResponse, Wave

    wave = Wave.objects.get(slug=args.wave)
    items = services.survey_items(wave=wave, side="customer")
    token = "b" * 32
    form = urlencode({f"a_{i.key}": str(i.scale_max) for i in items}
                     | {"language": "en", "comment": "", "csrfmiddlewaretoken": token})  # as wrk and browsers send
    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
    url = f"/s/{wave.slug}/customer/"

    def post() -> None:
        client.cookies.clear()
        client.cookies["csrftoken"] = token
        response = client.post(url, form, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 302, (response.status_code, response.content[:300])

    def ping() -> None:
        assert client.get("/bench/ping/").status_code == 200

    for _ in range(20):  # warm: connections, the kept instrument and link, imports
        post()
        ping()
    before = SurveyResponse.objects.filter(wave=wave).count()

    def timed(call) -> float:
        cpu = time.process_time()
        for _ in range(args.posts):
            call()
        return (time.process_time() - cpu) / args.posts * 1000

    ping_ms = timed(ping)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    post_ms = timed(post)
    if profiler is not None:
        profiler.stop()
        Path(args.profile).write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        post_ms_unprofiled = timed(post)
    else:
        post_ms_unprofiled = post_ms
    stored = SurveyResponse.objects.filter(wave=wave).count() - before
    expected = args.posts * (2 if profiler is not None else 1)
    assert stored == expected, (stored, expected)
    print("JSON " + json.dumps({"posts": args.posts, "post_cpu_ms": post_ms_unprofiled, "ping_cpu_ms": ping_ms,
                                "ratio": ping_ms / post_ms_unprofiled, "stored": stored}))


if __name__ == "__main__":
    main()
