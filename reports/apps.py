from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _keep_sqlite_data_version(sender, using="default", **kwargs) -> None:
    from django.db import connections

    from reports.counts import sqlite_version

    sqlite_version.install(connections[using])


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # After every migrate, on SQLite: the triggers keeping each wave's data version (counts.sqlite_version).
        post_migrate.connect(_keep_sqlite_data_version, sender=self, dispatch_uid="kagami-sqlite-data-version")
