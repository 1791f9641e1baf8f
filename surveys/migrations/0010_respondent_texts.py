"""Respondent texts (issue 15, item 4): each wave's own survey title and introduction per side and
language, and segment field definitions made explicit: ``choice_labels`` (the default tenure and touch
model choices get their Japanese and English labels) and ``ask_anonymous`` (the customer's account
attributes tier, touch_model and plan are no longer asked on the customer anonymous link)."""

from django.db import migrations, models

ACCOUNT_KEYS = {"tier", "touch_model", "plan"}
LABELS = {
    "tenure": {"<1y": {"ja": "1年未満", "en": "Less than 1 year"}, "1-3y": {"ja": "1〜3年", "en": "1–3 years"},
               "3-5y": {"ja": "3〜5年", "en": "3–5 years"}, "5y+": {"ja": "5年以上", "en": "5 years or more"}},
    "touch_model": {"high": {"ja": "ハイタッチ", "en": "High touch"}, "low": {"ja": "ロータッチ", "en": "Low touch"},
                    "tech": {"ja": "テックタッチ", "en": "Tech touch"}},
}


def _explicit(fields, side):
    result = []
    for field in fields or []:
        if not isinstance(field, dict):
            result.append(field)
            continue
        field = dict(field)
        key = field.get("key")
        if "choice_labels" not in field:
            known = LABELS.get(key, {})
            field["choice_labels"] = {c: dict(known[c]) for c in field.get("choices") or [] if c in known}
        if not isinstance(field.get("ask_anonymous"), bool):
            field["ask_anonymous"] = not (side == "customer" and key in ACCOUNT_KEYS)
        result.append(field)
    return result


def forwards(apps, schema_editor):
    Wave = apps.get_model("surveys", "Wave")
    for wave in Wave.objects.only("pk", "staff_segment_fields", "customer_segment_fields").iterator():
        staff = _explicit(wave.staff_segment_fields, "staff")
        customer = _explicit(wave.customer_segment_fields, "customer")
        if (staff, customer) != (wave.staff_segment_fields, wave.customer_segment_fields):
            Wave.objects.filter(pk=wave.pk).update(staff_segment_fields=staff, customer_segment_fields=customer)


class Migration(migrations.Migration):
    dependencies = [("surveys", "0009_instrument_items")]

    operations = [
        migrations.AddField(model_name="wave", name="staff_title_ja",
                            field=models.CharField(blank=True, max_length=200)),
        migrations.AddField(model_name="wave", name="staff_title_en",
                            field=models.CharField(blank=True, max_length=200)),
        migrations.AddField(model_name="wave", name="staff_intro_ja",
                            field=models.TextField(blank=True, max_length=2000)),
        migrations.AddField(model_name="wave", name="staff_intro_en",
                            field=models.TextField(blank=True, max_length=2000)),
        migrations.AddField(model_name="wave", name="customer_title_ja",
                            field=models.CharField(blank=True, max_length=200)),
        migrations.AddField(model_name="wave", name="customer_title_en",
                            field=models.CharField(blank=True, max_length=200)),
        migrations.AddField(model_name="wave", name="customer_intro_ja",
                            field=models.TextField(blank=True, max_length=2000)),
        migrations.AddField(model_name="wave", name="customer_intro_en",
                            field=models.TextField(blank=True, max_length=2000)),
        # Existing definitions keep their meaning except that the account attributes are no longer asked
        # anonymously; backwards, the extra keys are harmless and stay.
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
