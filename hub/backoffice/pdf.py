"""Statements as PDF: A4 pages of monospaced lines, written with reportlab.

The standard Courier font every reader has, so nothing is embedded; reportlab
writes text in its WinAnsi encoding, so accents and the euro sign show.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

LINES_PER_PAGE = 60
_FONT = ("Courier", 9)
_TOP = 800
_LEFT = 40
_LEADING = 12.5


def text_pdf(lines: Sequence[str], title: str = "") -> bytes:
    """A PDF of ``lines``, :data:`LINES_PER_PAGE` to an A4 page, in a monospaced
    layout's order (the caller pads the columns)."""
    out = io.BytesIO()
    # invariant: the same statement gives the same bytes (no creation date, fixed ids).
    canvas = Canvas(out, pagesize=A4, invariant=True)
    canvas.setTitle(title)
    canvas.setProducer("bluepaid-plugins")
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    for page in pages:
        text = canvas.beginText(_LEFT, _TOP)
        text.setFont(*_FONT)
        text.setLeading(_LEADING)
        for line in page:
            text.textLine(line)
        canvas.drawText(text)
        canvas.showPage()
    canvas.save()
    return out.getvalue()
