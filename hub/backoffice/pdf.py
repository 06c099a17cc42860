"""A small PDF writer for text documents (statements): A4 pages of lines in Courier.

Written by hand rather than with a PDF library: a statement is lines of text, and
this is the whole of what that needs (PDF 1.4, the standard Courier font every
reader has, Windows-1252 text, so accents and the euro sign show).
"""

from __future__ import annotations

from collections.abc import Sequence

LINES_PER_PAGE = 60
_FONT_SIZE = 9
_TOP = 800
_LEFT = 40
_LEADING = 12.5


def _text(line: str) -> bytes:
    raw = line.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf(lines: Sequence[str], title: str = "") -> bytes:
    """A PDF of ``lines``, :data:`LINES_PER_PAGE` to an A4 page, in a monospaced
    layout's order (the caller pads the columns)."""
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>")
    kids = []
    for page in pages:
        stream = [b"BT", f"/F1 {_FONT_SIZE} Tf {_LEADING} TL {_LEFT} {_TOP} Td".encode()]
        stream += [b"(" + _text(line) + b") Tj T*" for line in page]
        stream.append(b"ET")
        content = b"\n".join(stream)
        contents = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (tree, contents, font)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info = add(b"<< /Title (" + _text(title) + b") /Producer (bluepaid-plugins) >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        xref,
    )
    return bytes(out)
