"""factory_boy factories for Kagami's models. Small, composable, no JSON fixtures."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from surveys import models as m
from surveys import packing


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Organization

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    display_name_en = factory.LazyAttribute(lambda o: o.name)
    display_name_ja = factory.LazyAttribute(lambda o: f"{o.name}株式会社")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = m.Role.ANALYST


class InstrumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Instrument

    organization = factory.SubFactory(OrganizationFactory)
    key = factory.Sequence(lambda n: f"instrument-{n}")
    version = 1
    name_en = "Customer focus check"
    name_ja = "顧客志向チェック"


class DimensionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Dimension

    instrument = factory.SubFactory(InstrumentFactory)
    key = factory.Sequence(lambda n: f"dim-{n}")
    order = factory.Sequence(lambda n: n)
    name_en = factory.Sequence(lambda n: f"Dimension {n}")
    name_ja = factory.Sequence(lambda n: f"次元{n}")


class ItemPairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ItemPair

    dimension = factory.SubFactory(DimensionFactory)
    instrument = factory.LazyAttribute(lambda o: o.dimension.instrument if o.dimension else InstrumentFactory())
    key = factory.Sequence(lambda n: f"item-{n}")
    order = factory.Sequence(lambda n: n)
    kind = m.ItemKind.LIKERT
    staff_text_en = "We answer customers quickly."
    staff_text_ja = "私たちは顧客にすばやく対応している。"
    customer_text_en = "{company} answers me quickly."
    customer_text_ja = "{company}は私にすばやく対応してくれる。"
    scale_points = 5
    topbox_levels = factory.LazyAttribute(lambda o: [o.scale_points - 1, o.scale_points])


class WaveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Wave

    organization = factory.SubFactory(OrganizationFactory)
    instrument = factory.SubFactory(InstrumentFactory, organization=factory.SelfAttribute("..organization"))
    name = factory.Sequence(lambda n: f"Wave {n}")
    slug = factory.Sequence(lambda n: f"wave-{n}")
    status = m.WaveStatus.DRAFT


class CustomerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.CustomerAccount

    organization = factory.SubFactory(OrganizationFactory)
    external_id = factory.Sequence(lambda n: f"ACC-{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    tier = "Gold"
    touch_model = m.CustomerAccount.TouchModel.HIGH


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.SurveyResponse

    wave = factory.SubFactory(WaveFactory)
    side = m.Side.CUSTOMER
    language = m.Language.EN
    channel = m.Channel.ANONYMOUS


def set_answers(response: m.SurveyResponse, answers: dict[int, int | None], *, replace: bool = False) -> None:
    """Give ``response`` these answers (item id → value, None for N/A), added to or replacing its stored ones.

    Answers live packed in the response row (surveys.packing): a test writes them there, as every writer does.
    """
    stored = {} if replace else packing.unpack(
        m.SurveyResponse.objects.filter(pk=response.pk).values_list("answers_packed", flat=True).get())
    stored.update({int(getattr(item, "pk", item)): value for item, value in answers.items()})
    response.answers_packed = packing.pack(stored)
    m.SurveyResponse.objects.filter(pk=response.pk).update(answers_packed=response.answers_packed)


def drop_answer(response: m.SurveyResponse, item) -> None:
    stored = packing.unpack(
        m.SurveyResponse.objects.filter(pk=response.pk).values_list("answers_packed", flat=True).get())
    stored.pop(int(getattr(item, "pk", item)), None)
    set_answers(response, stored, replace=True)


class AnswerFactory(factory.Factory):
    """One answer, stored in its response's packed column; gives the row of the answer view."""

    class Meta:
        model = m.Answer

    response = factory.SubFactory(SurveyResponseFactory)
    item = factory.SubFactory(ItemPairFactory)
    value = 3

    @classmethod
    def _create(cls, model_class, response, item, value):
        set_answers(response, {item.pk: value})
        return m.Answer.objects.get(response=response, item=item)
