"""The respondent's form as data: questions in the side's wording, scale labels, posted values and errors.

One ``SurveyForm`` feeds the HTML templates; the JSON twin builds its form
definition from the same helpers (``scale_choices``, ``item_text``,
``anonymity_statement``), so both interfaces say the same thing. Validation
is not done here: ``services.response_submit`` is the one rule, and its field
errors are mapped back onto the questions (``apply_errors``), in the
respondent's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import override

from surveys import internal, releases, respondents, selectors, services
from surveys.models import Invitation, ItemKind, ItemPair, Language, Side, Wave

NA = "na"
COMMENT_MAX_LENGTH = services.MAX_COMMENT_LENGTH
HONEYPOT_FIELD = "website"  # bots fill every text field; people never see this one
LANGUAGE_LABELS = {Language.JA: "日本語", Language.EN: "English"}


def pick_language(wave: Wave, *candidates: str | None) -> str:
    """The first candidate the wave offers, else the wave's default language."""
    for candidate in candidates:
        if candidate and candidate in wave.languages and candidate in Language.values:
            return candidate
    return wave.default_language


def ordered_items(wave: Wave, side: str) -> list[ItemPair]:
    """The side's items, dimensions in order, then the outcome items (NPS …) last, on every database."""
    return services.survey_items(wave=wave, side=side)


def _raw_item_text(item: ItemPair, side: str, language: str) -> str:
    return item.text(side, language) or item.text(side, Language.EN if language == Language.JA else Language.JA)


def _fill_company(text: str, company: str) -> str:
    # str.replace, not format(): admin-written text may contain other braces.
    return text.replace("{company}", company)


def item_text(item: ItemPair, side: str, language: str, wave: Wave) -> str:
    """The item's wording for ``side`` in ``language``, with ``{company}`` filled in."""
    return _fill_company(_raw_item_text(item, side, language), wave.organization.company_name(language))


def _agreement_labels(points: int) -> list[str]:
    if points == 7:
        return [_("Strongly disagree"), _("Disagree"), _("Somewhat disagree"), _("Neither agree nor disagree"),
                _("Somewhat agree"), _("Agree"), _("Strongly agree")]
    return [_("Strongly disagree"), _("Disagree"), _("Neither agree nor disagree"), _("Agree"),
            _("Strongly agree")]


def scale_choices(item: ItemPair, language: str) -> list[tuple[int, str]]:
    """(value, label) for every scale point, labels in ``language``. NPS labels only its ends."""
    with override(language):
        if item.kind == ItemKind.NPS:
            labels = {0: _("Not at all likely"), 10: _("Extremely likely")}
            return [(v, labels.get(v, "")) for v in item.levels]
        if item.kind == ItemKind.CSAT:
            words = [_("Very dissatisfied"), _("Dissatisfied"), _("Neither satisfied nor dissatisfied"),
                     _("Satisfied"), _("Very satisfied")]
        elif item.kind == ItemKind.RENEWAL:
            words = [_("Definitely will not"), _("Probably will not"), _("Undecided"), _("Probably will"),
                     _("Definitely will")]
        elif item.kind == ItemKind.CES:
            words = _agreement_labels(7)
        else:
            words = _agreement_labels(item.scale_max)
        return list(zip(item.levels, words, strict=False))


def na_label(language: str) -> str:
    with override(language):
        return _("Don't know / not applicable")


def anonymity_statement(wave: Wave, *, invited: bool, language: str, side: str = Side.STAFF) -> list[str]:
    """How a protected respondent's anonymity is protected (staff; both sides of an internal wave), as paragraphs
    in ``language``; k is the side's own threshold."""
    k = releases.threshold(wave, side)
    with override(language):
        paragraphs = [
            _("Results are only ever shown for groups of at least %(k)s people; smaller groups are merged with "
              "others or left out.") % {"k": k},
        ]
        if invited:
            paragraphs.append(_("Your answers are never linked to your invitation, your name or your email "
                                "address."))
        else:
            paragraphs.append(_("This link is shared with everyone: we do not ask for your name or email "
                                "address, and your answers are never linked to you."))
        paragraphs.append(_("Results are published only in batches of at least %(k)s new answers, so nobody can "
                            "tell from the timing which answers are yours.") % {"k": k})
        return paragraphs


def dimension_title(item: ItemPair, language: str) -> str:
    if item.dimension is not None:
        return item.dimension.name(language)
    with override(language):
        return _("Your overall experience")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    html_id: str


@dataclass
class Question:
    key: str
    name: str
    html_id: str
    text: str
    kind: str
    is_headline: bool
    numeric: bool
    choices: list[Choice]
    na: Choice | None
    value: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def first_input_id(self) -> str:
        return self.choices[0].html_id if self.choices else self.html_id


@dataclass(frozen=True)
class QuestionSpec:
    """What a question is, whoever answers: built once per (frozen instrument, side, language)."""

    key: str
    name: str
    html_id: str
    text: str  # ``{company}`` not yet filled in: the organization's name may change
    kind: str
    is_headline: bool
    numeric: bool
    choices: tuple[Choice, ...]
    na: Choice | None
    section: str

    def question(self, company: str, data: Mapping[str, Any]) -> Question:
        return Question(
            key=self.key, name=self.name, html_id=self.html_id, text=_fill_company(self.text, company),
            kind=self.kind, is_headline=self.is_headline, numeric=self.numeric, choices=list(self.choices),
            na=self.na, value=str(data.get(self.name, "")).strip(),
        )


def _question_spec(item: ItemPair, side: str, language: str) -> QuestionSpec:
    base = f"q-{item.key}"
    choices = tuple(Choice(value=str(v), label=label, html_id=f"{base}-{v}")
                    for v, label in scale_choices(item, language))
    na = Choice(value=NA, label=na_label(language), html_id=f"{base}-na") if item.allow_na else None
    return QuestionSpec(
        key=item.key, name=f"a_{item.key}", html_id=base, text=_raw_item_text(item, side, language), kind=item.kind,
        is_headline=item.is_headline, numeric=item.kind == ItemKind.NPS, choices=choices, na=na,
        section=dimension_title(item, language),
    )


def question_specs(wave: Wave, side: str, language: str) -> tuple[QuestionSpec, ...]:
    """The questions of ``side`` in ``language``, in order; computed once per process for a frozen instrument."""
    def build() -> tuple[QuestionSpec, ...]:
        return tuple(_question_spec(item, side, language) for item in ordered_items(wave, side))

    return selectors.frozen_instrument_memo(instrument=wave.instrument, name=("form", side, language), build=build)


def posted_answers(wave: Wave, side: str, data: Mapping[str, Any]) -> dict[str, str | None]:
    """Item key → the posted answer (None when left blank): what ``SurveyForm(data=…).answers()`` gives,
    without building the questions."""
    return {item.key: (str(data.get(f"a_{item.key}", "")).strip() or None) for item in ordered_items(wave, side)}


def posted_segments(wave: Wave, side: str, data: Mapping[str, Any]) -> dict[str, str]:
    """Segment key → the posted value, blanks left out: what ``SurveyForm(…).segments()`` gives.

    Only the fields the anonymous link asks (surveys/respondents.py): a value nobody was asked for is dropped.
    """
    values = ((str(spec.get("key", "")), str(data.get(f"s_{spec.get('key', '')}", ""))[:120].strip())
              for spec in respondents.anonymous_segment_fields(wave, side))
    return {key: value for key, value in values if value}


@dataclass
class Section:
    title: str
    questions: list[Question]


@dataclass
class SegmentQuestion:
    key: str
    name: str
    html_id: str
    label: str
    choices: list[tuple[str, str]]  # (stored value, label in the form's language)
    value: str = ""
    errors: list[str] = field(default_factory=list)


class SurveyForm:
    """One respondent's form: built from the wave, filled from POST data, never validating by itself."""

    def __init__(self, *, wave: Wave, side: str, language: str, data: Mapping[str, Any] | None = None,
                 ask_segments: bool = False, invitation: Invitation | None = None):
        self.wave, self.side, self.language = wave, side, language
        self.invitation = invitation
        data = data or {}
        company = wave.organization.company_name(language)
        self.sections: list[Section] = []
        self.questions: dict[str, Question] = {}
        for spec in question_specs(wave, side, language):
            question = spec.question(company, data)
            self.questions[spec.key] = question
            if not self.sections or self.sections[-1].title != spec.section:
                self.sections.append(Section(title=spec.section, questions=[]))
            self.sections[-1].questions.append(question)
        self.segment_questions: list[SegmentQuestion] = []
        if ask_segments:
            for spec in respondents.anonymous_segment_fields(wave, side):
                key = str(spec.get("key", ""))
                self.segment_questions.append(SegmentQuestion(
                    key=key, name=f"s_{key}", html_id=f"seg-{key}", label=respondents.field_label(spec, language),
                    choices=respondents.choice_options(spec, language),
                    value=str(data.get(f"s_{key}", ""))[:120],
                ))
        self.comment: str = str(data.get("comment", ""))
        self.comment_errors: list[str] = []
        self.non_field_errors: list[str] = []
        self.ticket_problem: str = ""  # the code of a refused ticket (surveys/public/tickets.py), if any

    # ---------------------------------------------------------------- what goes to the service

    def answers(self) -> dict[str, str | None]:
        return {key: (q.value or None) for key, q in self.questions.items()}

    def segments(self) -> dict[str, str]:
        return {q.key: q.value.strip() for q in self.segment_questions if q.value.strip()}

    # ---------------------------------------------------------------- errors, in the respondent's language

    def apply_errors(self, field_errors: Mapping[str, list[str]], detail: str = "") -> None:
        """Attach the service's field errors (``answers.<key>``, ``segments.<key>``, ``comment``) to fields."""
        segments = {q.key: q for q in self.segment_questions}
        with override(self.language):
            for name, messages in field_errors.items():
                prefix, _sep, key = name.partition(".")
                if prefix == "answers" and key in self.questions:
                    self.questions[key].errors.append(self._answer_message(messages, self.questions[key]))
                elif prefix == "segments" and key in segments:
                    segments[key].errors.append(_("Please choose one of the options."))
                elif prefix == "comment":
                    self.comment_errors.append(
                        _("Please keep your comment to %(max)s characters or fewer.") % {"max": COMMENT_MAX_LENGTH}
                    )
                else:
                    self.non_field_errors.append(_("Something in your answers could not be accepted. "
                                                   "Please check them and send again."))

    @staticmethod
    def _answer_message(messages: list[str], question: Question) -> str:
        text = " ".join(str(m) for m in messages)
        if "required" in text or text.startswith("Choose an answer"):
            if question.na is not None:
                return _("Please choose an answer, or “Don't know / not applicable”.")
            return _("Please choose an answer.")
        return _("Please choose one of the options.")

    @property
    def has_errors(self) -> bool:
        return bool(self.error_summary) or bool(self.non_field_errors)

    @property
    def error_summary(self) -> list[tuple[str, str, str]]:
        """(anchor id, field label, message) for every field error, in page order."""
        rows: list[tuple[str, str, str]] = []
        for q in self.segment_questions:
            rows += [(q.html_id, q.label, e) for e in q.errors]
        for section in self.sections:
            for q in section.questions:
                rows += [(q.first_input_id, q.text, e) for e in q.errors]
        with override(self.language):
            rows += [("comment", _("Comment"), e) for e in self.comment_errors]
        return rows

    # ---------------------------------------------------------------- progress

    @property
    def total(self) -> int:
        return len(self.questions)

    @property
    def answered(self) -> int:
        valid = {q.key: {c.value for c in q.choices} | ({NA} if q.na else set()) for q in self.questions.values()}
        return sum(1 for q in self.questions.values() if q.value in valid[q.key])

    @property
    def anonymity(self) -> list[str]:
        if not internal.protected_side(self.wave, self.side):
            return []
        return anonymity_statement(self.wave, invited=self.invitation is not None, language=self.language,
                                   side=self.side)

    @property
    def other_languages(self) -> list[tuple[str, str]]:
        return [(code, LANGUAGE_LABELS.get(code, code)) for code in self.wave.languages
                if code != self.language and code in Language.values]
