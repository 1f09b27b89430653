"""Notices to the applicant where the diagram asks for them.

A designer marks an element with ``caseclock:notifyApplicant="documents_needed"`` (or
``case_concluded``, or any template in :mod:`engine.notices`); when the case reaches
that element, the applicant is told at the contact in the case data
(``applicant_email``, ``applicant_mobile``). Each element instance notifies once: the
outbox idempotency key is built from the SpiffWorkflow task id.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import notices, outbox
from .executor import CommandContext
from .store import ProcessInstance

REACHED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED
CONTACTS = (("email", "applicant_email"), ("sms", "applicant_mobile"))


def send(
    ctx: CommandContext,
    instance: ProcessInstance,
    meta: dict[str, Any],
    workflow: BpmnWorkflow,
) -> None:
    wanted = meta.get("applicant_notices") or {}
    if not wanted:
        return
    for task in workflow.get_tasks(state=REACHED):
        kind = wanted.get(task.task_spec.bpmn_id)
        if kind is None:
            continue
        data = task.data
        notice = notices.render(ctx, kind, {**data, "case": instance.business_key or instance.id})
        for channel, field in CONTACTS:
            if data.get(field):
                outbox.enqueue(
                    ctx, channel=channel, recipient=str(data[field]), subject=notice.subject,
                    body=notice.body, idempotency_key=f"applicant:{task.id}:{channel}",
                    payload={"kind": kind, "element_id": task.task_spec.bpmn_id},
                    instance_id=instance.id,
                )  # fmt: skip
