from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


def _drop_sqlite_data_version(sender, using="default", **kwargs) -> None:
    from django.db import connections

    from reports.counts import sqlite_version

    sqlite_version.uninstall(connections[using])


def _keep_sqlite_data_version(sender, using="default", **kwargs) -> None:
    from django.db import connections

    from reports.counts import sqlite_version

    sqlite_version.install(connections[using])


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # On SQLite the triggers keeping each wave's data version (counts.sqlite_version) are dropped before every
        # migrate and made after it.
        pre_migrate.connect(_drop_sqlite_data_version, sender=self, dispatch_uid="kagami-sqlite-data-version-drop")
        post_migrate.connect(_keep_sqlite_data_version, sender=self, dispatch_uid="kagami-sqlite-data-version")
