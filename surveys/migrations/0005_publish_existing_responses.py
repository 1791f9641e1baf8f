"""Publish the responses a database already holds when the disclosure layer arrives.

Before releases existed every response was read at once, so publishing them all
as release 1 of their wave and side reveals nothing that was not shown already.
Doing it here keeps the first read after an upgrade from stamping millions of rows
inside a web request. A wave and side with fewer responses than its threshold
stays waiting, as it would under the new rule.
"""

from django.db import migrations
from django.db.models import Count
from django.utils import timezone


def publish_existing(apps, schema_editor):
    SurveyResponse = apps.get_model("surveys", "SurveyResponse")
    Release = apps.get_model("surveys", "Release")
    Wave = apps.get_model("surveys", "Wave")
    groups = (SurveyResponse.objects.filter(release__isnull=True).values("wave_id", "side")
              .annotate(n=Count("id")).order_by())
    now = timezone.now()
    for group in groups:
        wave = Wave.objects.get(pk=group["wave_id"])
        k = wave.anonymity_threshold if group["side"] == "staff" else wave.customer_threshold
        if group["n"] < k or Release.objects.filter(wave_id=wave.pk, side=group["side"]).exists():
            continue
        stamped = SurveyResponse.objects.filter(wave_id=wave.pk, side=group["side"], release__isnull=True) \
            .update(release=1)
        Release.objects.create(wave_id=wave.pk, side=group["side"], number=1, n_added=stamped, n_total=stamped,
                               at_close=wave.status == "closed", created_at=now)


class Migration(migrations.Migration):
    dependencies = [("surveys", "0004_disclosure_releases")]

    operations = [migrations.RunPython(publish_existing, migrations.RunPython.noop)]
