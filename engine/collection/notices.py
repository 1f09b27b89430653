"""Notices to debtors (mechanism 3): templates in zh-CN and English, wording by days overdue.

What a bank must tell an overdue borrower comes in six parts — the reminder (amount,
days overdue), the consequences (overdue interest, credit record), the ways to repay,
the remedies (deferral, instalments), the legal risk and the credit-record impact.
The wording follows how late the debtor is (:func:`kind_for`): a courtesy reminder
before the due date, a short reminder in the first week, then the formal notice with
all six parts, and from day 30 the final notice, whose legal part is firmer.

Templates address the debtor alone and name nobody else: a notice never discloses
the debt to a third party (where it goes is :mod:`.contact`'s business).

One more kind is not about lateness: ``remedy`` confirms an approved deferral or
instalment plan with its new due dates and amounts (:mod:`.remedy_notices`).

The wording here is the shipped default. An admin may reword each kind's subject and
each part's heading and text per locale (:mod:`engine.notice_templates`, kinds
``debtor.<kind>.subject`` and ``debtor.part.<part>``); :func:`render` is given those
edits (from memory: :func:`edited`) and records which it used, so that a letter printed
later says what was sent (:func:`recorded_values`, :func:`rerender`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ..notices import DEFAULT_LOCALE, LOCALES, MAX_RENDERED_SUBJECT, placeholder_names

if TYPE_CHECKING:
    from ..executor import CommandContext

REMINDER, CONSEQUENCES, REPAY, REMEDIES, LEGAL, CREDIT = (
    "reminder", "consequences", "repay", "remedies", "legal", "credit",
)  # fmt: skip
SIX = (REMINDER, CONSEQUENCES, REPAY, REMEDIES, LEGAL, CREDIT)

# Which parts each kind of notice carries, in order.
PARTS: dict[str, tuple[str, ...]] = {
    "courtesy": ("courtesy", REPAY, REMEDIES),
    "reminder": (REMINDER, CONSEQUENCES, REPAY, REMEDIES),
    "formal": SIX,
    "final": (REMINDER, CONSEQUENCES, REPAY, REMEDIES, "legal_final", CREDIT),
    "remedy": ("remedy_confirmed", "new_schedule", "remedy_fees", REPAY),
}

SUBJECTS = {
    "zh-CN": {
        "courtesy": "【还款提醒】您的账款 {receivable} 将于 {due_date} 到期",
        "reminder": "【逾期提醒】您的账款 {receivable} 已逾期 {days_overdue} 天",
        "formal": "【催收函】账款 {receivable} 逾期还款通知",
        "final": "【最后催收通知】账款 {receivable} 已逾期 {days_overdue} 天",
        "remedy": "【还款计划确认】账款 {receivable} 的新还款计划",
    },
    "en": {
        "courtesy": "[Reminder] Your account {receivable} is due on {due_date}",
        "reminder": "[Overdue] Your account {receivable} is {days_overdue} days overdue",
        "formal": "[Collection notice] Account {receivable} is overdue",
        "final": "[Final notice] Account {receivable} is {days_overdue} days overdue",
        "remedy": "[Repayment plan] New schedule for account {receivable}",
    },
}

# (heading, text) per part.
SECTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "zh-CN": {
        "courtesy": ("还款提醒", "{debtor_name}：您的账款（编号 {receivable}）应还 {amount} "
                     "{currency}，将于 {due_date} 到期，请按时还款。"),
        REMINDER: ("一、欠款提醒", "{debtor_name}：截至 {as_of}，您的账款（编号 {receivable}）尚欠 "
                   "{amount} {currency}，已逾期 {days_overdue} 天（到期日 {due_date}）。"),
        CONSEQUENCES: ("二、逾期后果", "逾期期间按合同约定按日计收逾期利息（罚息），截至目前已产生 "
                       "{penalty} {currency}，并将继续计收；逾期将记入您的信用记录。"),
        REPAY: ("三、还款方式", "请通过银行转账、营业网点柜台或手机银行/APP 还款，并注明账款编号 "
                "{receivable}。"),
        REMEDIES: ("四、补救措施", "如确有还款困难，可申请延期还款或分期还款，请与我们联系协商"
                   "还款计划。"),
        LEGAL: ("五、法律风险", "如继续拖欠，我们将依法追索欠款，包括提起诉讼；由此产生的诉讼费等"
                "费用可能由您承担。"),
        "legal_final": ("五、法律风险", "您的欠款已严重逾期。如在收到本通知后 7 日内仍未还款或"
                        "协商还款计划，我们将依法提起诉讼并申请强制执行，由此产生的诉讼费等费用"
                        "可能由您承担。"),
        CREDIT: ("六、征信影响", "逾期信息将按规定报送金融信用信息基础数据库（征信系统），影响您"
                 "今后办理贷款、信用卡等金融业务。"),
        "remedy_confirmed": ("还款计划确认", "{debtor_name}：您的{remedy}申请已于 {approved_on} "
                             "获批准。账款（编号 {receivable}）自即日起按以下新还款计划还款，"
                             "原还款计划不再适用。"),
        "new_schedule": ("新还款计划", "{schedule}"),
        "remedy_fees": ("逾期利息", "此前已产生的逾期利息 {carried} {currency} 仍需偿还。请按新"
                        "计划按时还款，逾期将按合同约定继续计收逾期利息。"),
    },
    "en": {
        "courtesy": ("Payment reminder", "{debtor_name}: {amount} {currency} on your account "
                     "{receivable} is due on {due_date}. Please pay on time."),
        REMINDER: ("1. Reminder", "{debtor_name}: as of {as_of}, {amount} {currency} is "
                   "outstanding on your account {receivable}, {days_overdue} days overdue "
                   "(due date {due_date})."),
        CONSEQUENCES: ("2. Consequences", "Overdue interest accrues daily under your contract "
                       "({penalty} {currency} so far) and will continue to accrue; the late "
                       "payment is entered in your credit record."),
        REPAY: ("3. Ways to repay", "Pay by bank transfer, at a branch counter or in the mobile "
                "banking app, quoting account {receivable}."),
        REMEDIES: ("4. Remedies", "If you have difficulty paying, you may apply for a deferral "
                   "or an instalment plan: contact us to agree a repayment plan."),
        LEGAL: ("5. Legal risk", "If the debt remains unpaid we will recover it by legal means, "
                "including a lawsuit; the costs may be charged to you."),
        "legal_final": ("5. Legal risk", "Your debt is seriously overdue. Unless you pay or agree "
                        "a repayment plan within 7 days of this notice, we will sue and apply for "
                        "enforcement; the costs may be charged to you."),
        CREDIT: ("6. Credit-record impact", "Overdue information is reported to the credit "
                 "reference system and will affect your future loans and credit cards."),
        "remedy_confirmed": ("Repayment plan confirmed", "{debtor_name}: your request for "
                             "{remedy} was approved on {approved_on}. From now on account "
                             "{receivable} is repaid on the new schedule below, which replaces "
                             "the old one."),
        "new_schedule": ("New schedule", "{schedule}"),
        "remedy_fees": ("Overdue interest", "Overdue interest of {carried} {currency} accrued "
                        "before remains payable. Pay on time under the new schedule, or overdue "
                        "interest will accrue again under your contract."),
    },
}  # fmt: skip


# A remedy notice's values name the remedy and list the schedule; they are worded here.
REMEDY_NAMES = {
    "zh-CN": {"deferral": "延期还款", "instalments": "分期还款"},
    "en": {"deferral": "a deferral", "instalments": "an instalment plan"},
}
SCHEDULE_LINE = {"zh-CN": "{n}. {due_date} 应还 {amount} {currency}",
                 "en": "{n}. {due_date}: {amount} {currency}"}  # fmt: skip
SCHEDULE_GLUE = {"zh-CN": "；", "en": "; "}


# The values each kind is filled with (daily.CaseDay, remedy_notices.confirm_schedule):
# an admin's wording may name these and nothing else.
_LATENESS = ("debtor_name", "receivable", "amount", "currency", "due_date", "days_overdue",
             "as_of", "penalty")  # fmt: skip
PROVIDES: dict[str, tuple[str, ...]] = {
    "courtesy": _LATENESS, "reminder": _LATENESS, "formal": _LATENESS, "final": _LATENESS,
    "remedy": ("debtor_name", "receivable", "remedy", "approved_on", "schedule", "currency",
               "carried"),
}  # fmt: skip

# (item, locale) -> (subject or heading, "" or text): the admin's edits (notice_template rows).
Edited = Mapping[tuple[str, str], tuple[str, str]]
# In a notice record's ``filled_with``: the edited wording the notice used, by item.
WORDING = "_wording"


class Item(NamedTuple):
    """One debtor wording an admin may edit: a kind's subject, or a part's heading and text."""

    part: bool
    provides: tuple[str, ...]  # the placeholders it may name
    required: tuple[str, ...]  # those it must keep: the facts its shipped wording states
    shipped: dict[str, tuple[str, str]]  # locale -> (subject or heading, "" or text)


def subject_item(kind: str) -> str:
    return f"debtor.{kind}.subject"


def part_item(part: str) -> str:
    return f"debtor.part.{part}"


def _items() -> dict[str, Item]:
    items = {}
    for kind, provides in PROVIDES.items():
        shipped = {lang: (SUBJECTS[lang][kind], "") for lang in LOCALES}
        required = placeholder_names(*(subject for subject, _ in shipped.values()))
        items[subject_item(kind)] = Item(False, provides, required, shipped)
    for part in dict.fromkeys(p for parts in PARTS.values() for p in parts):
        # A part shared by kinds may name only what every one of them provides.
        carriers = [PROVIDES[kind] for kind, parts in PARTS.items() if part in parts]
        provides = tuple(n for n in carriers[0] if all(n in c for c in carriers))
        shipped = {lang: SECTIONS[lang][part] for lang in LOCALES}
        required = placeholder_names(*(h + t for h, t in shipped.values()))
        items[part_item(part)] = Item(True, provides, required, shipped)
    return items


ITEMS: dict[str, Item] = _items()


def kind_for(days_from_due: int) -> str:
    """The wording for a notice sent ``days_from_due`` days after the due date."""
    if days_from_due <= 0:
        return "courtesy"
    if days_from_due < 7:
        return "reminder"
    return "formal" if days_from_due < 30 else "final"


@dataclass(frozen=True)
class DebtorNotice:
    kind: str
    locale: str
    subject: str
    sections: tuple[tuple[str, str], ...]
    # The admin's wording it used, by item: [subject or heading, text].
    wording: dict[str, list[str]] = field(default_factory=dict)

    @property
    def body(self) -> str:
        return "\n\n".join(f"{heading}\n{text}" for heading, text in self.sections)


def edited(ctx: CommandContext) -> Edited:
    """The admin's wording, read from memory while the org chain stands still
    (``Services.notice_templates``): no query per notice."""
    return ctx.services.notice_templates.get(ctx, None)


def render(
    kind: str, values: dict[str, Any], locale: str = DEFAULT_LOCALE, wording: Edited | None = None
) -> DebtorNotice:
    """Fill the template, in the admin's ``wording`` where it has an edit; a missing value
    raises KeyError (a debtor notice with a blank amount is worse than none)."""
    lang = locale if locale in SECTIONS else DEFAULT_LOCALE
    own = wording or {}
    used: dict[str, list[str]] = {}

    def pick(item: str, shipped: tuple[str, str]) -> tuple[str, str]:
        text = own.get((item, lang))
        if text is None:
            return shipped
        used[item] = list(text)
        return text

    fields = _worded(values, lang)
    subject = pick(subject_item(kind), (SUBJECTS[lang][kind], ""))[0]
    sections = tuple(
        (heading.format_map(fields), text.format_map(fields))
        for heading, text in (pick(part_item(part), SECTIONS[lang][part]) for part in PARTS[kind])
    )
    filled = subject.format_map(fields)[:MAX_RENDERED_SUBJECT]
    return DebtorNotice(kind, lang, filled, sections, used)


def recorded_values(notice: DebtorNotice, values: dict[str, Any]) -> dict[str, Any]:
    """What a notice record keeps: the values, and the admin's wording if it used any."""
    return {**values, WORDING: notice.wording} if notice.wording else dict(values)


def rerender(kind: str, filled_with: dict[str, Any], locale: str) -> DebtorNotice:
    """The recorded notice again, in the wording it was sent in (a later edit or reset
    does not change a letter already sent)."""
    used = filled_with.get(WORDING) or {}
    wording = {(item, locale): (text[0], text[1]) for item, text in used.items()}
    return render(kind, filled_with, locale, wording)


def _worded(values: dict[str, Any], lang: str) -> dict[str, Any]:
    """The values with a remedy's name and schedule put in words of ``lang``."""
    fields = dict(values)
    if "remedy" in fields:
        fields["remedy"] = REMEDY_NAMES[lang][fields["remedy"]]
    if isinstance(fields.get("schedule"), list):
        fields["schedule"] = SCHEDULE_GLUE[lang].join(
            SCHEDULE_LINE[lang].format(n=n, currency=fields["currency"], **item)
            for n, item in enumerate(fields["schedule"], start=1)
        )
    return fields
