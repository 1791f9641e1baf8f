"""The diagnosis in the demo: one organization link and a dozen stored results (called by load_demo).

Idempotent: the link's token is derived from SECRET_KEY (only its hash is stored, as for any link), so
every run finds the same link and prints the same address; results are added only once. The answers
are drawn with a fixed seed around a plausible profile: a company proud of its philosophy, with a
capable team, that has not yet built its health scores and touch model.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from base64 import urlsafe_b64encode

from django.conf import settings
from django.db import transaction

from diagnosis import services
from diagnosis.models import DiagnosisLink, DiagnosisResult
from diagnosis.questions import ITEMS
from surveys.models import Organization, hash_token

RESULTS = 12
# The mean answer per element that the demo's leaders lean towards (1–5).
LEANING = {"philosophy": 3.9, "team": 3.4, "technology": 2.3}


def demo_link_token(organization: Organization) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"diagnosis-demo-{organization.slug}".encode(),
                      hashlib.sha256).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


@transaction.atomic
def seed(organization: Organization, *, results: int = RESULTS, random_seed: int = 16) -> list[str]:
    """Make sure the demo link and its results exist; the lines to print (the link's address)."""
    token = demo_link_token(organization)
    link = DiagnosisLink.objects.filter(token_hash=hash_token(token)).first()
    if link is None:
        link, _ = services.link_create(organization=organization, label="Demo: leadership team", token=token)
    if not DiagnosisResult.objects.filter(link=link).exists():
        rng = random.Random(random_seed)
        for n in range(results):
            answers = {item.key: max(1, min(5, round(rng.gauss(LEANING[item.element], 0.9)))) for item in ITEMS}
            services.result_submit(answers=answers, language="ja" if n % 3 else "en", link=link)
    base = settings.KAGAMI_PUBLIC_URL.rstrip("/")
    return [f"quick diagnosis (anyone): {base}/diagnosis/",
            f"quick diagnosis (the demo organization's link): {base}/diagnosis/o/{token}/"]
