"""manage.py load_demo: the demo organization, its users and realistic survey data (see surveys/demo.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diagnosis import demo as diagnosis_demo
from surveys.demo import demo_load

PROGRESS_FROM = 2000  # responses; below that the work takes a second or two


class Command(BaseCommand):
    help = (
        "Load the demo organization 'Kagami Demo' (slug demo) with two waves of synthetic responses "
        "(a third with --journey-pilot). "
        "Idempotent: an existing demo is left as it is; --reset rebuilds it. Prints logins and links."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42); same seed, same data.")
        parser.add_argument("--responses", type=int, default=400, metavar="N",
                            help="Customer responses per wave (default 400); staff get 30 %% of N.")
        parser.add_argument("--reset", action="store_true", help="Delete the demo organization and users first.")
        parser.add_argument("--journey-pilot", action="store_true",
                            help="Add the third wave: questionnaire v2 with touchpoints and the experience modules "
                                 "(60 staff, 160 customers; `make run` adds it).")
        parser.add_argument("--internal-services", action="store_true",
                            help="Add the internal-services wave: HR, IT, Finance and General affairs rated by the "
                                 "employees, one mirror per department (`make run` adds it).")

    def handle(self, *args: Any, **options: Any) -> None:
        customers = options["responses"]
        staff = max(12, round(customers * 0.3))
        try:
            summary = demo_load(seed=options["seed"], customers=customers, staff=staff, reset=options["reset"],
                                progress=2 * (customers + staff) >= PROGRESS_FROM,
                                journey_pilot=options["journey_pilot"],
                                internal_services=options["internal_services"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        counts = summary.counts
        responses = sum(v for k, v in counts.items() if ":" in k)
        if summary.created:
            self.stdout.write(self.style.SUCCESS(
                f"Demo loaded: {summary.organization.name} (slug {summary.organization.slug}), "
                f"{counts['accounts']} accounts ({counts['accounts_churned']} churned), {responses} responses, "
                f"{counts['invitations']} invitations ({counts['invitations_used']} used)."
            ))
        else:
            self.stdout.write(f"Demo already loaded ({responses} responses); nothing changed. --reset rebuilds it.")
        summary.lines += diagnosis_demo.seed(summary.organization)
        for line in summary.lines:
            self.stdout.write(line)
