"""Printable QR tags: a route's sheet as PDF (a grid of labels) and one checkpoint's PNG.

Each label carries the QR code of the checkpoint's ``qr_value`` (what the phone scans),
the value itself in small type under the code (to type it when the camera fails), and
the route code, checkpoint code, name and location. Chinese text uses the Adobe CID
font STSong-Light, which reportlab ships metrics for, so no CJK TrueType file is needed.
Text is drawn as text (never markup), so names cannot inject anything into the PDF.
"""

from __future__ import annotations

import io

import segno
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from frontline.inspections.models import Checkpoint, Route

FONT = "STSong-Light"
COLUMNS, ROWS = 3, 4
MARGIN = 12 * mm
QR_SIZE = 38 * mm


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _fit(text: str, size: float, width: float) -> str:
    """Cut ``text`` with an ellipsis so that it fits ``width`` points."""
    text = " ".join(str(text).split())
    if pdfmetrics.stringWidth(text, FONT, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", FONT, size) > width:
        text = text[:-1]
    return text + "…"


def _qr(value: str, size: float) -> Drawing:
    widget = QrCodeWidget(value, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def _label(pdf: canvas.Canvas, route: Route, checkpoint: Checkpoint, x, y, w, h) -> None:
    pdf.setLineWidth(0.3)
    pdf.setDash(2, 2)
    pdf.rect(x, y, w, h)
    pdf.setDash()
    inner = w - 6 * mm
    pdf.setFont(FONT, 10)
    pdf.drawString(x + 3 * mm, y + h - 7 * mm, _fit(f"{route.code} · {checkpoint.code}", 10, inner))
    pdf.setFont(FONT, 9)
    pdf.drawString(x + 3 * mm, y + h - 12 * mm, _fit(checkpoint.name, 9, inner))
    pdf.setFont(FONT, 7)
    pdf.drawString(x + 3 * mm, y + h - 16 * mm, _fit(checkpoint.location, 7, inner))
    renderPDF.draw(_qr(checkpoint.qr_value, QR_SIZE), pdf, x + (w - QR_SIZE) / 2, y + 7 * mm)
    pdf.setFont("Courier", 7)
    pdf.drawCentredString(x + w / 2, y + 4 * mm, checkpoint.qr_value)


def route_sheet_pdf(route: Route, checkpoints=None, *, compress: bool = True) -> bytes:
    """A4 pages of 3 × 4 labels, one per active checkpoint, in route order."""
    _font()
    if checkpoints is None:
        checkpoints = route.checkpoints.filter(is_active=True).order_by("position", "id")
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1 if compress else 0)
    pdf.setTitle(f"{route.code} {route.name}")
    pdf.setAuthor("Frontline")
    width, height = A4
    cell_w = (width - 2 * MARGIN) / COLUMNS
    cell_h = (height - 2 * MARGIN - 8 * mm) / ROWS
    per_page = COLUMNS * ROWS
    items = list(checkpoints)

    def header():
        pdf.setFont(FONT, 11)
        pdf.drawString(MARGIN, height - MARGIN, _fit(f"{route.code} {route.name}", 11, width / 2))
        pdf.setFont(FONT, 8)
        site = f"{route.project.code} · {route.site.name}"
        pdf.drawRightString(width - MARGIN, height - MARGIN, _fit(site, 8, width / 2 - MARGIN))

    header()
    for index, checkpoint in enumerate(items):
        if index and index % per_page == 0:
            pdf.showPage()
            header()
        slot = index % per_page
        col, row = slot % COLUMNS, slot // COLUMNS
        x = MARGIN + col * cell_w
        y = height - MARGIN - 8 * mm - (row + 1) * cell_h
        _label(pdf, route, checkpoint, x, y, cell_w, cell_h)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def checkpoint_png(checkpoint: Checkpoint, scale: int = 8) -> bytes:
    """One checkpoint's QR code as a PNG (error correction M, quiet zone 4)."""
    buffer = io.BytesIO()
    segno.make_qr(checkpoint.qr_value, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


__all__ = ["checkpoint_png", "route_sheet_pdf"]
