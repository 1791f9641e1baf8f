from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


def _drop_sqlite_answer_view(sender, using="default", **kwargs) -> None:
    from django.db import connections

    from surveys import packing

    packing.sqlite_view_drop(connections[using])


def _make_sqlite_answer_view(sender, using="default", **kwargs) -> None:
    from django.db import connections

    from surveys import packing

    packing.sqlite_view_install(connections[using])


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        """Register the invalidation of the app's process caches (each owned by one module), and the SQLite
        answer view's remaking around every migrate (surveys.packing)."""
        from django.db.models.signals import post_delete, post_save

        from surveys import selectors
        from surveys.models import AnonymousLink, Dimension, Instrument, ItemPair, Wave
        from surveys.public import links

        pre_migrate.connect(_drop_sqlite_answer_view, sender=self, dispatch_uid="kagami-sqlite-answer-view-drop")
        post_migrate.connect(_make_sqlite_answer_view, sender=self, dispatch_uid="kagami-sqlite-answer-view")

        # The frozen instruments' questions and form specs (surveys.selectors.frozen_instrument_memo).
        for model in (Instrument, Dimension, ItemPair):
            post_save.connect(selectors.frozen_instrument_changed, sender=model,
                              dispatch_uid=f"kagami-frozen-{model.__name__}-save")
            post_delete.connect(selectors.frozen_instrument_changed, sender=model,
                                dispatch_uid=f"kagami-frozen-{model.__name__}-delete")
        # The anonymous links' two-second copy (surveys.public.links).
        for model in (Wave, AnonymousLink):
            post_save.connect(links.forget_recent_links, sender=model,
                              dispatch_uid=f"kagami-recent-links-save-{model.__name__}")
            post_delete.connect(links.forget_recent_links, sender=model,
                                dispatch_uid=f"kagami-recent-links-delete-{model.__name__}")
