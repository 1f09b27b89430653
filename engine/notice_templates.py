"""Notice templates reworded by an admin: overrides of the defaults in :mod:`engine.notices`.

An override replaces one kind's subject and body in one locale; resetting it removes the
row and the shipped wording applies again. Templates are ``str.format`` text, so a
template is checked before it is stored: it may name only the placeholders its kind
provides (those its shipped wording uses), each plainly. Positional fields (``{0}``),
attribute and index access (``{task.__class__}`` walks from a value into Python
objects), conversions and format specs (``{task:>999999999}`` builds a huge string) are
all refused.

Debtor notices (:mod:`engine.collection.notices`) are reworded the same way, kept in the
same table: ``debtor.<kind>.subject`` holds a kind's subject (the body stays empty) and
``debtor.part.<part>`` a part's heading (in ``subject``) and text (in ``body``); forms and
errors call these fields ``subject`` or ``heading`` and ``text`` (:func:`fields`). A part
cannot be dropped (every kind keeps its parts, only their wording changes), and an edit
must keep each placeholder its shipped wording uses: the amount, the days overdue, the
due date are what the regulation makes a notice state.

Overrides change only through commands on the ``org`` audit chain, so each process keeps
them in memory until that chain moves, as it does calendars and SLA standards: rendering
a notice inside a command costs no query of its own.
"""

from __future__ import annotations

import logging
from string import Formatter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .collection.notices import ITEMS as DEBTOR_ITEMS
from .errors import ValidationError, at_field
from .executor import CommandContext
from .notices import LOCALES, TEMPLATES, Notice, fill, placeholder_names
from .store.models import NoticeTemplate

log = logging.getLogger(__name__)

MAX_SUBJECT = 200
MAX_BODY = 4000

# Values a preview fills in, by placeholder name; every kind's placeholders have one.
SAMPLES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "person": "王科长", "task": "受理审查", "case": "BJ-2026-0001",
        "due": "2026-10-09 17:00", "left": "4 小时", "holder": "li", "level": "1",
        "by": "周律师", "question": "请确认申请人的营业执照是否有效。",
        "answer": "营业执照有效。", "message": "请今天内办结。", "matter": "营业执照变更登记",
        "applicant_name": "张三",
        "debtor_name": "张三", "receivable": "L-2026-0001", "amount": "10070.00",
        "currency": "CNY", "due_date": "2026-03-05", "days_overdue": "12",
        "as_of": "2026-03-17", "penalty": "70.00", "remedy": "分期还款",
        "approved_on": "2026-03-20", "schedule": "1. 2026-04-05 应还 3356.67 CNY",
        "carried": "70.00",
    },
    "en": {
        "person": "Section chief Wang", "task": "Review application", "case": "BJ-2026-0001",
        "due": "2026-10-09 17:00", "left": "4 hours", "holder": "li", "level": "1",
        "by": "周律师", "question": "Is the applicant's business licence valid?",
        "answer": "The licence is valid.", "message": "Please finish it today.",
        "matter": "Business licence change", "applicant_name": "Zhang San",
        "debtor_name": "Zhang San", "receivable": "L-2026-0001", "amount": "10070.00",
        "currency": "CNY", "due_date": "2026-03-05", "days_overdue": "12",
        "as_of": "2026-03-17", "penalty": "70.00", "remedy": "an instalment plan",
        "approved_on": "2026-03-20", "schedule": "1. 2026-04-05: 3356.67 CNY",
        "carried": "70.00",
    },
}  # fmt: skip

Key = tuple[str, str]  # (kind, locale)
Wording = tuple[str, str]  # (subject, body)

# Staff notices first, then the debtor's.
KINDS: tuple[str, ...] = (*TEMPLATES, *DEBTOR_ITEMS)


def placeholders(kind: str) -> tuple[str, ...]:
    """The values notices of ``kind`` are given: for a staff notice, the placeholders its
    shipped wording uses; for a debtor notice's wording, what its kinds are filled with."""
    if kind in DEBTOR_ITEMS:
        return DEBTOR_ITEMS[kind].provides
    return placeholder_names(*(text for wording in TEMPLATES[kind].values() for text in wording))


def required(kind: str) -> tuple[str, ...]:
    """The placeholders an edit must keep (a debtor notice's facts); none for staff."""
    item = DEBTOR_ITEMS.get(kind)
    return item.required if item else ()


def fields(kind: str) -> tuple[str, str | None]:
    """What forms and errors call a kind's two texts: a staff notice's subject and body,
    a debtor notice's subject alone (no body), or a debtor part's heading and text."""
    item = DEBTOR_ITEMS.get(kind)
    if item is None:
        return "subject", "body"
    return ("heading", "text") if item.part else ("subject", None)


def shipped(kind: str, locale: str) -> Wording:
    item = DEBTOR_ITEMS.get(kind)
    return item.shipped[locale] if item else TEMPLATES[kind][locale]


def check_template(kind: str, locale: str) -> None:
    """Refuse a kind or locale there is no template for, naming the field."""
    if kind not in KINDS:
        message = f"no notice kind {kind!r}; known: {', '.join(KINDS)}"
        raise at_field("kind", message)
    if locale not in LOCALES:
        message = f"locale {locale!r}: one of {', '.join(LOCALES)}"
        raise at_field("locale", message)


def check(kind: str, locale: str, subject: str, body: str) -> None:
    """Refuse a template that could not be stored or filled safely; ``details['fields']``
    names each field that is wrong (by the names :func:`fields` gives)."""
    check_template(kind, locale)
    allowed = placeholders(kind)
    first, second = fields(kind)
    problems = {first: _subject_problem(subject) or _placeholder_problem(subject, allowed)}
    if second is None:
        problems["body"] = "a debtor notice's subject has no body; leave it empty" if body else None
    else:
        problems[second] = _body_problem(body) or _placeholder_problem(body, allowed)
    kept = _kept_problem(kind, subject + body)
    last = second or first
    if kept and not problems[last]:
        problems[last] = kept
    problems = {f: p for f, p in problems.items() if p}
    if problems:
        raise ValidationError("; ".join(f"{f}: {p}" for f, p in problems.items()),
                              details={"fields": problems})  # fmt: skip


def _kept_problem(kind: str, text: str) -> str | None:
    try:
        used = placeholder_names(text)
    except ValueError:
        return None  # the braces are reported at their field
    dropped = [name for name in required(kind) if name not in used]
    if not dropped:
        return None
    names = ", ".join(f"{{{name}}}" for name in dropped)
    them = "it" if len(dropped) == 1 else "them"
    return f"must keep {names}: a debtor notice has to state {them}"


def _subject_problem(subject: str) -> str | None:
    if not subject.strip():
        return "is required"
    if "\n" in subject or "\r" in subject:
        return "must be a single line"
    if len(subject) > MAX_SUBJECT:
        return f"must be at most {MAX_SUBJECT} characters"
    return None


def _body_problem(body: str) -> str | None:
    if not body.strip():
        return "is required"
    if len(body) > MAX_BODY:
        return f"must be at most {MAX_BODY} characters"
    return None


def _placeholder_problem(text: str, allowed: tuple[str, ...]) -> str | None:
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in Formatter().parse(text)
                  if name is not None]  # fmt: skip
    except ValueError:
        return "unbalanced braces; write {{ or }} for a literal brace"
    for name, spec, conversion in fields:
        if not name.isidentifier():
            return (f"placeholder {{{name}}} is not allowed; name a value plainly, "
                    f"e.g. {{{allowed[0]}}}")  # fmt: skip
        if spec or conversion:
            return f"placeholder {{{name}}} may not carry a format or conversion"
        if name not in allowed:
            return f"unknown placeholder {{{name}}}; this notice provides: {', '.join(allowed)}"
    return None


def preview(kind: str, locale: str, subject: str, body: str) -> Notice:
    """The template, tidied as it would be stored, filled with sample values once it
    passes :func:`check`."""
    subject, body = tidy(subject, body)
    check(kind, locale, subject, body)
    return fill(subject, body, SAMPLES[locale])


def tidy(subject: str, body: str) -> Wording:
    """Text as typed into a form: without surrounding blanks or Windows line ends."""
    return subject.strip(), body.replace("\r\n", "\n").strip()


def templates(session: Session) -> list[dict[str, Any]]:
    """Every kind in every locale: the wording in use, the shipped one, who edited it."""
    edited = {(row.kind, row.locale): row for row in session.scalars(select(NoticeTemplate))}
    rows = []
    for kind in KINDS:
        for locale in LOCALES:
            default_subject, default_body = shipped(kind, locale)
            row = edited.get((kind, locale))
            rows.append({
                "kind": kind, "locale": locale, "placeholders": list(placeholders(kind)),
                "audience": "debtor" if kind in DEBTOR_ITEMS else "staff",
                "fields": [f for f in fields(kind) if f], "required": list(required(kind)),
                "subject": row.subject if row else default_subject,
                "body": row.body if row else default_body,
                "default_subject": default_subject, "default_body": default_body,
                "edited": row is not None, "updated_by": row.updated_by if row else None,
                "updated_at": row.updated_at if row else None,
            })  # fmt: skip
    return rows


# --- commands --------------------------------------------------------------------------------


class SetNoticeTemplate:
    """Reword one kind of notice in one locale; the next notice of that kind uses it."""

    name = "notice_template_set"

    def __init__(self, kind: str, locale: str, subject: str, body: str) -> None:
        self.kind, self.locale = kind, locale
        self.subject, self.body = tidy(subject, body)
        check(kind, locale, self.subject, self.body)

    def __call__(self, ctx: CommandContext) -> NoticeTemplate:
        row = _row(ctx.session, self.kind, self.locale)
        if row is None:
            row = NoticeTemplate(kind=self.kind, locale=self.locale)
            ctx.session.add(row)
        row.subject, row.body = self.subject, self.body
        row.updated_by, row.updated_at = ctx.actor, ctx.now
        ctx.session.flush()
        audit.append(ctx, self.name, payload={
            "kind": self.kind, "locale": self.locale, "subject": self.subject, "body": self.body,
        })  # fmt: skip
        ctx.forget_caches()
        return row


class ResetNoticeTemplate:
    """Go back to the shipped wording; resetting one that was never edited does nothing."""

    name = "notice_template_reset"

    def __init__(self, kind: str, locale: str) -> None:
        check_template(kind, locale)
        self.kind, self.locale = kind, locale

    def __call__(self, ctx: CommandContext) -> bool:
        row = _row(ctx.session, self.kind, self.locale)
        if row is None:
            return False
        ctx.session.delete(row)
        ctx.session.flush()
        audit.append(ctx, self.name, payload={"kind": self.kind, "locale": self.locale})
        ctx.forget_caches()
        return True


def _row(session: Session, kind: str, locale: str) -> NoticeTemplate | None:
    return session.scalars(
        select(NoticeTemplate).where(NoticeTemplate.kind == kind, NoticeTemplate.locale == locale)
    ).first()


def load_edited(session: Session, _: None = None) -> dict[Key, Wording]:
    """Every edited wording by (kind, locale) (cached: ``Services.notice_templates``)."""
    edited = {}
    for row in session.scalars(select(NoticeTemplate)):
        try:
            check(row.kind, row.locale, row.subject, row.body)
        except ValidationError as exc:
            # Written past the commands (by hand, or before a kind lost a placeholder):
            # the shipped wording is sent rather than a notice that fails or leaks.
            log.warning("notice template %s/%s ignored: %s", row.kind, row.locale, exc.message)
            continue
        edited[(row.kind, row.locale)] = (row.subject, row.body)
    return edited
