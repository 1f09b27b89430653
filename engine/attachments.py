"""Attachments (附件) on a case or one of its tasks: checked, kept outside the database,
audited.

A file is taken only when its name's extension and its first bytes agree on one of the
allowed types (a ``.pdf`` that is really HTML or a program is refused) and it is within
the size limit. The content is stored once per sha256 under the attachments folder
(:class:`AttachmentStore`); the :class:`~engine.store.models.Attachment` row describes
it. The file name is personal data: the audit event keeps only its digest, and erasure
(:mod:`engine.erasure`) blanks it and removes the content.

Nothing is ever half-written (:func:`attach`): the bytes are staged in a temporary file
beside the store, the row and its audit event commit in one command, and only then is
the staged file moved into place; a refused or failed command removes it. A crash
between the commit and the move leaves a row whose content is missing, which downloads
report as such.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, queries
from .app import CaseClock
from .errors import Conflict, Forbidden, NotFound, ValidationError
from .executor import CommandContext, Reader
from .org import OrgSnapshot
from .runtime import lock_instance
from .store import Task
from .store.models import POOL_KINDS, Attachment

ENV_DIR = "CASECLOCK_ATTACHMENTS_DIR"
DEFAULT_MAX_BYTES = 10 * 2**20
MAX_NAME = 150

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Extension -> the media type its content must show.
ALLOWED = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": DOCX,
    ".xlsx": XLSX,
    ".txt": "text/plain",
    ".csv": "text/csv",
}
# What a refused file's content is: first bytes -> kind (``describe``), and each kind
# (or allowed media type) in words.
KNOWN_OTHERS = {
    b"MZ": "windows-program",
    b"\x7fELF": "linux-program",
    b"GIF8": "gif",
    b"PK\x03\x04": "zip",
    b"\xd0\xcf\x11\xe0": "ole",
    b"Rar!": "rar",
}
CONTENT_NAMES = {
    "windows-program": "a Windows program",
    "linux-program": "a Linux program",
    "gif": "a GIF image",
    "zip": "a ZIP archive",
    "ole": "an old Office (OLE) file",
    "rar": "a RAR archive",
    "html": "HTML or other markup",
    "unknown": "binary data of unknown type",
}
MARKUP = ("<!doctype html", "<html", "<head", "<body", "<script", "<svg", "<?xml", "<iframe")


def refuse(reason: str, message: str, **params: Any) -> ValidationError:
    """A refusal at the ``file`` field; ``reason`` and ``params`` let a page word it in
    its own language."""
    return ValidationError(message, details={"fields": {"file": message}, "reason": reason,
                                             "params": params})  # fmt: skip


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    media_type: str
    size: int
    sha256: str


def clean_name(raw: str) -> str:
    """The name as shown and offered on download: no folders, control or reserved
    characters, leading dots or spaces; at most ``MAX_NAME`` characters, extension kept."""
    name = unicodedata.normalize("NFC", re.split(r"[\\/]", raw)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'[<>:"|?*;]', "_", name).strip().lstrip(".").strip()
    stem, ext = os.path.splitext(name)
    return stem[: MAX_NAME - len(ext)] + ext.lower() if stem else ""


def sniff(data: bytes) -> str | None:
    """The allowed media type the content itself shows, whatever its name says."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return "text/plain" if _plain_text(data) else None


def _office(data: bytes) -> str | None:
    """DOCX and XLSX are ZIP files whose parts say which they are (names only: nothing
    is decompressed, so a ZIP bomb costs nothing here)."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    return XLSX if "xl/workbook.xml" in names else None


def _plain_text(data: bytes) -> bool:
    """UTF-8 or GB18030 text without NUL bytes, and not markup a browser would render."""
    if b"\x00" in data:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not text.lstrip().lower().startswith(MARKUP)
    return False


def describe(data: bytes) -> str:
    """What refused content is: an allowed media type, or a kind of ``CONTENT_NAMES``."""
    found = sniff(data)
    if found is not None:
        return found
    for magic, kind in KNOWN_OTHERS.items():
        if data.startswith(magic):
            return kind
    head = data[:200].decode("utf-8", "replace").lstrip().lower()
    return "html" if head.startswith(MARKUP) else "unknown"


def check_file(raw_name: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedFile:
    """The file if it may be stored: allowed extension, content of that type, size."""
    name = clean_name(raw_name)
    if not name:
        raise refuse("name", "the file needs a name")
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED:
        raise refuse("type", f"{ext or 'a file without extension'} is not allowed: "
                     f"send {', '.join(sorted(ALLOWED))}", ext=ext or "–")  # fmt: skip
    if not data:
        raise refuse("empty", "the file is empty")
    if len(data) > max_bytes:
        raise refuse("size", f"the file is larger than {max_bytes // 2**20} MB",
                     limit=max_bytes // 2**20)  # fmt: skip
    found, expected = sniff(data), ALLOWED[ext]
    if found != expected and not (found == "text/plain" and expected == "text/csv"):
        what = describe(data)
        raise refuse("mismatch", f"{name} is named {ext} but its content is "
                     f"{CONTENT_NAMES.get(what, what)}", ext=ext, found=what)  # fmt: skip
    return CheckedFile(name, expected, len(data), hashlib.sha256(data).hexdigest())


class AttachmentStore:
    """The files, one per distinct content, at ``<root>/<sha[:2]>/<sha256>``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @classmethod
    def from_env(cls) -> AttachmentStore:
        """``$CASECLOCK_ATTACHMENTS_DIR``, else ``instance/attachments`` (beside the
        default SQLite database, where the web app's instance folder is too)."""
        return cls(os.environ.get(ENV_DIR) or Path("instance") / "attachments")

    def path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def stage(self, data: bytes) -> Path:
        """Write the bytes to a private temporary file on the store's file system (so the
        later move is atomic) and flush them to disk."""
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=staging)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return Path(name)

    def publish(self, staged: Path, sha256: str) -> None:
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)  # same content under the same name: replacing is harmless

    def discard(self, staged: Path) -> None:
        staged.unlink(missing_ok=True)

    def sweep(self, digests: set[str], read: Reader) -> None:
        """Remove the content of those ``digests`` that no attachment in place uses.

        Safe against an upload of the same content at the same moment: each file is first
        moved aside, then the rows are read, and a file in use again is moved back. An
        upload commits its row before it moves its own copy in, so either this read sees
        the row, or the upload's copy arrives after the file has gone.
        """
        aside: dict[str, Path] = {}
        for digest in digests:
            target = self.path(digest)
            parked = target.with_name(f"{target.name}.removing-{secrets.token_hex(4)}")
            try:
                os.rename(target, parked)
            except FileNotFoundError:
                continue
            aside[digest] = parked
        if not aside:
            return
        gone = read(lambda session: unused(session, set(aside)))
        for digest, parked in aside.items():
            if digest in gone:
                parked.unlink()
            else:
                os.replace(parked, self.path(digest))

    def read(self, attachment: Attachment) -> Path:
        path = self.path(attachment.sha256)
        if not path.is_file():
            raise NotFound(f"the content of attachment {attachment.id} is missing from the store")
        return path


def unused(session: Session, digests: set[str]) -> set[str]:
    """Those of ``digests`` no live attachment refers to any more (their files may go)."""
    if not digests:
        return set()
    live = session.scalars(
        select(Attachment.sha256).where(
            Attachment.sha256.in_(digests), Attachment.deleted_at.is_(None)
        )
    )
    return digests - set(live)


def may_act(task: Task, user: str, org: OrgSnapshot, deputy_for: list[str],
            below: set[str]) -> bool:  # fmt: skip
    """Whether ``user`` works on the open ``task``: holds it (or stands in today for who
    does), is offered it through a group, or is the superior of whoever holds or is
    offered it (``below``: the people under them, when they act as supervisor)."""
    if task.state != "open":
        return False
    holders = {k for k in (task.assignee, task.owner) if k}
    if user in holders or (task.assignee is not None and task.assignee in deputy_for):
        return True
    if holders & below:
        return True
    if task.assignee is not None or task.kind not in POOL_KINDS:
        return False
    groups = set(task.candidate_groups or ())
    return bool(groups & org.groups_of(user)) or any(
        groups & org.people[key][1] for key in below if key in org.people
    )


def works_on_case(
    session: Session,
    instance_id: int,
    user: str,
    org: OrgSnapshot,
    today: date,
    supervisor: bool,
    task_id: int | None = None,
) -> bool:
    """Whether ``user`` works on an open task of the case (``task_id``: on that one), as
    :func:`may_act` reads it; ``supervisor``: also through the people under them."""
    where = [Task.instance_id == instance_id, Task.state == "open"]
    if task_id is not None:
        where.append(Task.id == task_id)
    below = set(queries.below(session, user)) if supervisor else set()
    deputy_for = org.stood_in_for(user, today)
    tasks = session.scalars(select(Task).where(*where))
    return any(may_act(t, user, org, deputy_for, below) for t in tasks)


class AddAttachment:
    """Record a checked file on a running case, by someone working on one of its open
    tasks (``task_id``: on that task). The file itself is stored by :func:`attach`."""

    name = "attach"

    def __init__(self, instance_id: int, user: str, file: CheckedFile,
                 task_id: int | None = None, supervisor: bool = False) -> None:  # fmt: skip
        self.instance_id, self.user, self.file = instance_id, user, file
        self.task_id, self.supervisor = task_id, supervisor

    def __call__(self, ctx: CommandContext) -> Attachment:
        org = ctx.org()
        org.person_id(self.user)
        instance = lock_instance(ctx, self.instance_id)
        if instance.state != "running":
            raise Conflict(f"case {instance.id} has concluded: no more attachments")
        if self.task_id is not None:
            task = ctx.session.get(Task, self.task_id)
            if task is None or task.instance_id != instance.id:
                raise NotFound(f"case {instance.id} has no task {self.task_id}")
        if not works_on_case(ctx.session, instance.id, self.user, org, ctx.today(),
                             self.supervisor, self.task_id):  # fmt: skip
            raise Forbidden(f"{self.user} works on no open task of case {instance.id}"
                            + (f" (task {self.task_id})" if self.task_id else ""))  # fmt: skip
        row = Attachment(
            instance_id=instance.id, task_id=self.task_id, uploaded_by=self.user,
            filename=self.file.filename, media_type=self.file.media_type,
            size=self.file.size, sha256=self.file.sha256, created_at=ctx.now,
        )  # fmt: skip
        ctx.session.add(row)
        ctx.session.flush()
        audit.append(ctx, self.name, instance=instance, task_id=self.task_id,
                     payload={"attachment_id": row.id, "media_type": row.media_type,
                              "size": row.size, "sha256": row.sha256},
                     private={"filename": row.filename})  # fmt: skip
        return row


class DeleteAttachment:
    """The uploader takes a file back: the row stays (the audit trail names it), marked
    deleted; :func:`detach` then removes the content if nothing else refers to it."""

    name = "delete_attachment"

    def __init__(self, attachment_id: int, user: str) -> None:
        self.attachment_id, self.user = attachment_id, user

    def __call__(self, ctx: CommandContext) -> Attachment:
        # The case is locked before the row is read, so two deletes cannot both pass.
        instance_id = ctx.session.scalar(
            select(Attachment.instance_id).where(Attachment.id == self.attachment_id)
        )
        if instance_id is None:
            raise NotFound(f"no attachment {self.attachment_id}")
        instance = lock_instance(ctx, instance_id)
        row = ctx.session.get_one(Attachment, self.attachment_id)
        if row.uploaded_by != self.user:
            raise Forbidden(f"only {row.uploaded_by}, who added it, deletes attachment {row.id}")
        if row.deleted_at is not None:
            raise Conflict(f"attachment {row.id} is already deleted")
        row.deleted_at = ctx.now
        audit.append(ctx, self.name, instance=instance, task_id=row.task_id,
                     payload={"attachment_id": row.id})  # fmt: skip
        return row


def attach(app: CaseClock, store: AttachmentStore, command: AddAttachment,
           data: bytes) -> Attachment:  # fmt: skip
    """Stage the checked bytes, run ``command``, and move the file into place once the
    row has committed (see the module docstring)."""
    staged = store.stage(data)
    try:
        row = app.execute(command, actor=command.user)
    except BaseException:
        store.discard(staged)
        raise
    store.publish(staged, command.file.sha256)
    return row


def detach(app: CaseClock, store: AttachmentStore, attachment_id: int, user: str) -> Attachment:
    row = app.execute(DeleteAttachment(attachment_id, user), actor=user)
    store.sweep({row.sha256}, app.read)
    return row


def listing(session: Session, instance_id: int) -> list[Attachment]:
    """A case's attachments still in place, oldest first."""
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.instance_id == instance_id, Attachment.deleted_at.is_(None))
            .order_by(Attachment.id)
        )
    )
