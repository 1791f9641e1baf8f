"""What respondents read, apart from the questions: the survey's title and introduction, segment
choices in their language, and which segment questions an anonymous link asks.

The instrument's name and description are internal (what it measures, for the team): they are never
shown to respondents. A wave carries its own title and introduction per side and language
(``Wave.<side>_title_<lang>``, ``Wave.<side>_intro_<lang>``, ``{company}`` filled in), else a default.

A segment field definition (``Wave.staff_segment_fields`` / ``customer_segment_fields``) is
``{"key", "label_en", "label_ja", "choices", "choice_labels", "ask_anonymous"}``: ``choice_labels``
maps a choice (the stored value) to ``{"ja": …, "en": …}``; ``ask_anonymous`` says whether the side's
anonymous link asks it. Invitation links ask no segment question at all (the invitation carries them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import override

from surveys.models import Language, Side, Wave

# A customer's account attributes: customers cannot know how they are classified, so the customer
# anonymous link does not ask them unless an admin says so; invitations take them from the account.
ACCOUNT_SEGMENT_KEYS = frozenset({"tier", "touch_model", "plan"})

TITLE_MAX_LENGTH = 200
INTRO_MAX_LENGTH = 2000
RESPONDENT_TEXT_FIELDS = tuple(f"{side}_{kind}_{lang}" for side in (Side.STAFF, Side.CUSTOMER)
                               for kind in ("title", "intro") for lang in (Language.JA, Language.EN))
CHOICE_LABEL_LANGUAGES = (Language.JA, Language.EN)


def _lang(language: str) -> str:
    return Language.JA if language == Language.JA else Language.EN


def _fill_company(text: str, company: str) -> str:
    # str.replace, not format(): admin-written text may contain other braces.
    return text.replace("{company}", company)


def respondent_title(wave: Wave, side: str, language: str) -> str:
    """The survey's title for ``side`` in ``language``: the wave's, else a default naming the company."""
    company = wave.organization.company_name(language)
    own = (getattr(wave, f"{side}_title_{_lang(language)}", "") or "").strip()
    if own:
        return _fill_company(own, company)
    with override(language):
        if side == Side.STAFF:
            return _("%(company)s — staff survey") % {"company": company}
        return _("%(company)s — customer survey") % {"company": company}


def respondent_intro(wave: Wave, side: str, language: str) -> str:
    """The survey's introduction for ``side`` in ``language`` (paragraphs split by blank lines)."""
    company = wave.organization.company_name(language)
    own = (getattr(wave, f"{side}_intro_{_lang(language)}", "") or "").strip()
    if own:
        return _fill_company(own, company)
    with override(language):
        if side == Side.STAFF:
            return _("This internal survey asks how well we serve our customers. Please answer from your own "
                     "experience; there are no right or wrong answers.")
        return _("%(company)s would like to know how you experience working with them. It takes about five "
                 "minutes.") % {"company": company}


# --------------------------------------------------------------------------- segment fields


def default_ask_anonymous(side: str, key: str) -> bool:
    return not (side == Side.CUSTOMER and key in ACCOUNT_SEGMENT_KEYS)


def asks_anonymously(field: Mapping[str, Any], side: str) -> bool:
    """Whether the side's anonymous link asks ``field`` (a definition without the flag: the default)."""
    flag = field.get("ask_anonymous")
    if isinstance(flag, bool):
        return flag
    return default_ask_anonymous(side, str(field.get("key", "")))


def anonymous_segment_fields(wave: Wave, side: str) -> list[dict]:
    """The segment fields the side's anonymous link asks, in order."""
    return [dict(f) for f in wave.segment_fields(side) if asks_anonymously(f, side)]


def field_label(field: Mapping[str, Any], language: str) -> str:
    key = str(field.get("key", ""))
    return str(field.get("label_ja" if language == Language.JA else "label_en") or key)


def choice_label(field: Mapping[str, Any], choice: str, language: str) -> str:
    """The label of ``choice`` in ``language``: its label in that language, else the other's, else the key."""
    labels = (field.get("choice_labels") or {}).get(choice)
    if not isinstance(labels, Mapping):
        return choice
    first = _lang(language)
    other = Language.EN if first == Language.JA else Language.JA
    return str(labels.get(first) or labels.get(other) or choice)


def choice_options(field: Mapping[str, Any], language: str) -> list[tuple[str, str]]:
    """(stored value, label in ``language``) of every choice; empty for a free-text field."""
    return [(str(c), choice_label(field, str(c), language)) for c in field.get("choices") or []]


def choice_labels_problems(choices: list[str], choice_labels: Any) -> list[str]:
    """What is wrong with a field's ``choice_labels`` (empty when nothing)."""
    if not isinstance(choice_labels, Mapping):
        return ["Must be an object: choice → {\"ja\": label, \"en\": label}."]
    problems: list[str] = []
    for choice, labels in choice_labels.items():
        if choice not in choices:
            problems.append(f"'{choice}' is not one of this field's choices.")
        elif not isinstance(labels, Mapping) or not labels:
            problems.append(f"The labels of '{choice}' must be an object like {{\"ja\": …, \"en\": …}}.")
        else:
            for language, label in labels.items():
                if language not in CHOICE_LABEL_LANGUAGES:
                    problems.append(f"'{language}' is not a language of the forms (ja, en).")
                elif not isinstance(label, str) or not label.strip() or len(label) > 120:
                    problems.append(f"The {language} label of '{choice}' must be text of 1 to 120 characters.")
    return problems


def unasked_segment_problems(wave: Wave, side: str, segments: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Field errors for segment values sent to an anonymous link that it does not ask (given, not blank)."""
    configured = {str(f.get("key", "")): f for f in wave.segment_fields(side)}
    problems: dict[str, list[str]] = {}
    for key, value in (segments or {}).items():
        if key in configured and value not in (None, "") and not asks_anonymously(configured[key], side):
            problems[f"segments.{key}"] = [f"'{key}' is not asked on this wave's anonymous {side} link."]
    return problems
