"""Notices to the applicant where the diagram asks for them.

A designer marks an element with ``caseclock:notifyApplicant="documents_needed"`` (or
``case_concluded``, or any template in :mod:`engine.notices`); when the case reaches
that element, the applicant is told at the contact in the case data
(``applicant_email``, ``applicant_mobile``). Each element instance notifies once: the
outbox idempotency key is built from the SpiffWorkflow task id, and a cached workflow
remembers what it told, so later commands do not render it again.

The notice is written in the applicant's language, ``applicant_locale`` in the case data
(a locale of :data:`engine.notices.LOCALES`, or a regional spelling of one such as
``en-US``), in the admin's wording for that locale where there is one. A value naming a
language CaseClock does not write must not stop the case: the notice goes out in the
default locale, and its outbox payload keeps the value (``unsupported_locale``) next to
the locale used (``locale``), so an operator can tell why an applicant got Chinese.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import notices, outbox
from .errors import ValidationError
from .executor import CommandContext
from .store import ProcessInstance

REACHED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED
CONTACTS = (("email", "applicant_email"), ("sms", "applicant_mobile"))
# An unsupported value is recorded at most this long: case data may hold anything, and
# RFC 5646 §4.4.1 recommends room for language tags of 35 characters.
LONGEST_TAG = 35


def send(
    ctx: CommandContext,
    instance: ProcessInstance,
    meta: dict[str, Any],
    workflow: BpmnWorkflow,
) -> None:
    wanted = meta.get("applicant_notices") or {}
    if not wanted:
        return
    # The element tasks this workflow object has told: it lives as long as the cached
    # workflow (a failed command evicts both), so later commands skip them unrendered; a
    # workflow loaded afresh starts empty and writes them once more, which the outbox
    # drops by their idempotency keys.
    told = workflow.applicant_told
    for task in workflow.get_tasks(state=REACHED):
        kind = wanted.get(task.task_spec.bpmn_id)
        if kind is None or task.id in told:
            continue
        data = task.data
        locale, unsupported = _applicant_locale(data.get("applicant_locale"))
        values = {**data, "case": instance.business_key or instance.id}
        notice = notices.render(ctx, kind, values, locale)
        payload = {"kind": kind, "element_id": task.task_spec.bpmn_id, "locale": locale}
        if unsupported is not None:
            payload["unsupported_locale"] = unsupported
        for channel, field in CONTACTS:
            if data.get(field):
                outbox.enqueue(
                    ctx, channel=channel, recipient=str(data[field]), subject=notice.subject,
                    body=notice.body, idempotency_key=f"applicant:{task.id}:{channel}",
                    payload=payload, instance_id=instance.id,
                )  # fmt: skip
        told.add(task.id)


def _applicant_locale(value: Any) -> tuple[str, str | None]:
    """The locale to write to the applicant in, for ``value`` (case data's
    ``applicant_locale``), and, when it names no language CaseClock writes, the value as
    given (cut to :data:`LONGEST_TAG`): the notice then goes in the default locale.

    A form or another system may send a regional tag (``en-US``, ``en_GB``, ``zh-Hans``):
    its language decides. No value, or an empty one, is no preference: the default.
    """
    text = "" if value is None else str(value).strip()
    if not text:
        return notices.DEFAULT_LOCALE, None
    try:
        return notices.parse_locale(text), None
    except ValidationError:
        return notices.DEFAULT_LOCALE, text[:LONGEST_TAG]
