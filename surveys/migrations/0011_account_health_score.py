"""Customer health score (issue 16, item 5): accounts carry a 0-100 health score and the date it was
scored, from import or the API, so perception can be set beside it; a date needs a score."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0010_respondent_texts"),
    ]

    operations = [
        migrations.AddField(
            model_name="customeraccount",
            name="health_score",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True,
                validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)],
            ),
        ),
        migrations.AddField(
            model_name="customeraccount",
            name="health_scored_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="customeraccount",
            constraint=models.CheckConstraint(
                condition=models.Q(("health_score__isnull", True),
                                   models.Q(("health_score__gte", 0), ("health_score__lte", 100)), _connector="OR"),
                name="account_health_score_0_100",
            ),
        ),
        migrations.AddConstraint(
            model_name="customeraccount",
            constraint=models.CheckConstraint(
                condition=models.Q(("health_scored_on__isnull", True), ("health_score__isnull", False),
                                   _connector="OR"),
                name="account_health_date_needs_score",
            ),
        ),
    ]
