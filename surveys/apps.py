from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        """Register the invalidation of the app's process caches (each owned by one module)."""
        from django.db.models.signals import post_delete, post_save

        from surveys import selectors
        from surveys.models import AnonymousLink, Dimension, Instrument, ItemPair, Wave
        from surveys.public import links

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
