"""The respondent's form of an internal wave: one block of questions per serving department.

Employees (the customer side) tick each department they used and rate it; staff of a serving department
rate their own department, named by their invitation (the roster), never chosen on the form. Field names
carry the department: ``used`` (one value per department ticked), ``<department>__a_<item key>``. The
questions and their wording are the main form's (:mod:`surveys.public.forms`), so both say the same
thing; validation is ``services.internal_submit``'s, whose ``<department>.answers.<key>`` errors are put
back on the questions here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import override

from surveys import internal
from surveys.models import Invitation, Side, Wave
from surveys.public.forms import Section, SurveyForm

USED_FIELD = "used"


def _prefix(department: str) -> str:
    return f"{department}__"


def posted_ratings(wave: Wave, side: str, data: Mapping[str, Any], invitation: Invitation | None) -> dict:
    """Department → posted answers (item key → value or None), for the departments rated."""
    if side == Side.STAFF:
        own = str(invitation.segments.get(internal.DEPARTMENT_FIELD, "")) if invitation is not None else ""
        rated = [own] if own else []
    else:
        getlist = getattr(data, "getlist", None)
        raw = getlist(USED_FIELD) if getlist else data.get(USED_FIELD, [])
        rated = [str(v) for v in (raw if isinstance(raw, list | tuple) else [raw])]
    out = {}
    form = SurveyForm(wave=wave, side=side, language=wave.default_language)
    for department in rated:
        prefix = _prefix(department)
        out[department] = {key: (str(data.get(prefix + q.name, "")).strip() or None)
                           for key, q in form.questions.items()}
    return out


@dataclass
class DepartmentBlock:
    key: str
    label: str
    used: bool
    sections: list[Section]
    questions: dict
    errors: list[str] = field(default_factory=list)


class InternalSurveyForm:
    """The form of an internal wave: the main form's notices, one question block per department."""

    def __init__(self, *, wave: Wave, side: str, language: str, data: Mapping[str, Any] | None = None,
                 invitation: Invitation | None = None):
        self.wave, self.side, self.language, self.invitation = wave, side, language, invitation
        data = data or {}
        getlist = getattr(data, "getlist", None)
        used = set(getlist(USED_FIELD) if getlist else data.get(USED_FIELD, []) or [])
        own = str(invitation.segments.get(internal.DEPARTMENT_FIELD, "")) if invitation is not None else ""
        keys = [own] if side == Side.STAFF else internal.department_keys(wave)
        self.base = SurveyForm(wave=wave, side=side, language=language, invitation=invitation)
        self.blocks: list[DepartmentBlock] = []
        for key in keys:
            prefix = _prefix(key)
            local = {name[len(prefix):]: value for name, value in data.items() if name.startswith(prefix)}
            form = SurveyForm(wave=wave, side=side, language=language, data=local, invitation=invitation)
            for q in form.questions.values():
                q.name = prefix + q.name
                q.html_id = prefix + q.html_id
                q.choices = [replace(c, html_id=prefix + c.html_id) for c in q.choices]
                q.na = replace(q.na, html_id=prefix + q.na.html_id) if q.na is not None else None
            self.blocks.append(DepartmentBlock(
                key=key, label=internal.department_label(wave, key, language),
                used=side == Side.STAFF or key in used, sections=form.sections, questions=form.questions))
        self.non_field_errors: list[str] = []
        self.ticket_problem = ""

    @property
    def is_staff(self) -> bool:
        return self.side == Side.STAFF

    @property
    def anonymity(self) -> list[str]:
        return self.base.anonymity

    @property
    def other_languages(self) -> list[tuple[str, str]]:
        return self.base.other_languages

    @property
    def has_errors(self) -> bool:
        return bool(self.non_field_errors) or any(b.errors or any(q.errors for q in b.questions.values())
                                                  for b in self.blocks)

    @property
    def error_summary(self) -> list[tuple[str, str, str]]:
        rows = []
        for block in self.blocks:
            rows += [(f"dept-{block.key}", block.label, e) for e in block.errors]
            for section in block.sections:
                for q in section.questions:
                    rows += [(q.first_input_id, f"{block.label}: {q.text}", e) for e in q.errors]
        return rows

    def apply_errors(self, field_errors: Mapping[str, list[str]]) -> None:
        """Put ``internal_submit``'s errors (``departments``, ``<department>.answers.<key>``) on the form."""
        blocks = {b.key: b for b in self.blocks}
        with override(self.language):
            for name, messages in field_errors.items():
                department, _sep, rest = name.partition(".")
                prefix, _sep2, key = rest.partition(".")
                block = blocks.get(department)
                if block is not None and prefix == "answers" and key in block.questions:
                    question = block.questions[key]
                    text = " ".join(str(m) for m in messages)
                    if "required" in text or text.startswith("Choose an answer"):
                        question.errors.append(_("Please choose an answer, or “Don't know / not applicable”.")
                                               if question.na is not None else _("Please choose an answer."))
                    else:
                        question.errors.append(_("Please choose one of the options."))
                elif name == "departments" and not self.is_staff:
                    self.non_field_errors.append(_("Please tick at least one department you used, and rate it."))
                else:
                    self.non_field_errors.append(_("Something in your answers could not be accepted. "
                                                   "Please check them and send again."))
