"""Formal notice letters (催收函) as PDF, rendered with reportlab.

The letter is the recorded notice — the same template, in the wording an admin had
given it then, and the same values that were written to the outbox
(``collection_notice.filled_with`` keeps both) — so it can be printed again at any time
and says exactly what the debtor was sent, whatever the wording is today.

Chinese needs a CJK font. The installed WenQuanYi Micro Hei (``fonts-wqy-microhei``)
is embedded as a subset with its Unicode map, so the text can be extracted and
searched (``pdftotext``); without it, reportlab's built-in CID font STSong-Light is
used, which every PDF viewer can show but which embeds nothing.
"""

from __future__ import annotations

import io
from datetime import date, tzinfo
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..store.collection_tables import Receivable
from ..store.ladder_tables import CollectionNotice
from .notices import DebtorNotice, rerender

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
_font: str | None = None


def font_name() -> str:
    """Register the CJK font once per process and return its name."""
    global _font
    if _font is None:
        if WQY.is_file():
            pdfmetrics.registerFont(TTFont("WQYMicroHei", str(WQY), subfontIndex=0))
            _font = "WQYMicroHei"
        else:
            pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
            _font = "STSong-Light"
    return _font


def render_pdf(notice: DebtorNotice, dated: date) -> bytes:
    font = font_name()
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=18, spaceBefore=6)
    # wordWrap CJK: Chinese lines break between any two characters.
    text = ParagraphStyle("text", fontName=font, fontSize=11, leading=17, wordWrap="CJK")
    story = [Paragraph(escape(notice.subject), title), Spacer(1, 6 * mm)]
    for head, body in notice.sections:
        story.append(Paragraph(escape(head), heading))
        story.append(Paragraph(escape(body), text))
    story += [Spacer(1, 8 * mm), Paragraph(dated.isoformat(), text)]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, title=notice.subject
    ).build(story)
    return buffer.getvalue()


def recorded_letter(session: Session, receivable: str, level: str, tz: tzinfo) -> bytes:
    """The PDF of the notice recorded for ``receivable`` at ``level``, as it was sent."""
    row = session.execute(
        select(CollectionNotice)
        .join(Receivable, Receivable.id == CollectionNotice.receivable_id)
        .where(Receivable.key == receivable, CollectionNotice.level == level)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no notice recorded for {receivable!r} at level {level!r}")
    notice = rerender(row.kind, row.filled_with, row.locale)
    return render_pdf(notice, row.created_at.astimezone(tz).date())
