"""The page of an invoice or credit note: A4, its margins, fonts, sizes and colours (those of
billing/pdf/document.css), text measured and wrapped with the fonts' widths, the laid-out pages as
lists of drawing operations, and writing them as a PDF with ReportLab's canvas."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONTS = Path(__file__).resolve().parent.parent / "fonts"  # billing/fonts
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM  # A4
BODY_MARGIN = 6.0  # the user-agent stylesheet's `body { margin: 8px }`
LEFT = 16 * MM + BODY_MARGIN
RIGHT = PAGE_W - 16 * MM - BODY_MARGIN
WIDTH = RIGHT - LEFT
PAGE_TOP = 18 * MM  # where a continuation page's content starts (from the top)
FIRST_TOP = PAGE_TOP + BODY_MARGIN
BOTTOM = PAGE_H - 22 * MM  # content ends above the footer margin

LINE = 1.4  # line-height
BASELINE = 1.046  # baseline below a line's top, per point of font size

TEXT = (0x1F / 255, 0x29 / 255, 0x37 / 255)  # #1f2937
BLUE = (0x1E / 255, 0x3A / 255, 0x8A / 255)  # #1e3a8a
GREY = (0x6B / 255, 0x72 / 255, 0x80 / 255)  # #6b7280
TITLE = (0x11 / 255, 0x18 / 255, 0x27 / 255)  # #111827
RED = (0xB9 / 255, 0x1C / 255, 0x1C / 255)  # #b91c1c
WHITE = (1.0, 1.0, 1.0)
RULE = (0xE5 / 255, 0xE7 / 255, 0xEB / 255)  # #e5e7eb
RULE_DARK = (0x9C / 255, 0xA3 / 255, 0xAF / 255)  # #9ca3af
NOTE_BG = (0xF3 / 255, 0xF4 / 255, 0xF6 / 255)  # #f3f4f6

BODY = 8.5  # font sizes (pt)
LABEL = 6.5  # .label: uppercase, letter-spacing 0.6pt, grey
LABEL_SPACING = 0.6

# table.lines: the columns' widths (fractions of the content width), right-aligned columns
LINE_COLUMNS = (0.05, 0.34, 0.09, 0.10, 0.11, 0.09, 0.13, 0.09)
LINE_NUMERIC = (False, False, True, False, True, True, True, True)
TAX_COLUMNS = (0.16, 0.28, 0.28, 0.28)  # .tax-summary (56% of the width)
TAX_NUMERIC = (False, False, True, True)

_fonts_registered = False
# The two DejaVu fonts are one TTFontFace each for the whole process, and a face reads its font file
# through one shared cursor (`TTFontFile._pos`): two documents saved at once (the threaded dev server's
# downloads, a billing run's thread, a threaded worker) made their font subsets through each other's
# reads, a KeyError or a wrong glyph. Registering and subsetting hold this lock; the per-document glyph
# codes (`TTFont.State`) need none.
FONT_FILES = threading.Lock()
# Content streams compressed only, not also ASCII85-encoded (a quarter smaller): PDFs are binary
# files here, never mailed as 7-bit text. (Process-wide; nothing else in otc uses ReportLab.)
rl_config.useA85 = 0


def register_fonts() -> None:
    """Once per process: a font registered again would be a new object, without the glyph codes a
    document being drawn meanwhile gave its text."""
    global _fonts_registered
    if _fonts_registered:
        return
    with FONT_FILES:
        if not _fonts_registered:
            pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
            _fonts_registered = True


def text_width(text: str, font: str, size: float, spacing: float = 0.0) -> float:
    return pdfmetrics.stringWidth(text, font, size) + spacing * len(text)


def wrap(text: str, font: str, size: float, width: float, spacing: float = 0.0) -> list[str]:
    """`text` in lines no wider than `width`, broken at white space (which collapses, as in HTML);
    a word wider than `width` (a long product code, an e-mail address) is broken after a hyphen,
    slash, underscore, dot or @ where it can be, else between characters (CSS's
    `overflow-wrap: anywhere`), so it never runs into the next column. Always at least one line."""
    words = text.split()
    if not words:
        return [""]
    whole = " ".join(words)
    if text_width(whole, font, size, spacing) <= width:
        return [whole]
    space = text_width(" ", font, size, spacing)
    lines: list[str] = []
    current, current_width = "", 0.0
    for word in words:
        word_width = text_width(word, font, size, spacing)
        if current and current_width + space + word_width <= width:
            current, current_width = f"{current} {word}", current_width + space + word_width
            continue
        if current:
            lines.append(current)
        if word_width <= width:
            current, current_width = word, word_width
            continue
        pieces = _broken_word(word, font, size, width, spacing)
        lines.extend(pieces[:-1])
        current = pieces[-1]
        current_width = text_width(current, font, size, spacing)
    lines.append(current)
    return lines


_BREAK_AFTER = frozenset("-/_.@")


def _broken_word(word: str, font: str, size: float, width: float, spacing: float) -> list[str]:
    """A word wider than `width` in pieces that fit: each as long as fits, ending after the last
    break character that fits when there is one, else cut between characters."""
    pieces: list[str] = []
    rest = word
    while text_width(rest, font, size, spacing) > width:
        fit = 1  # at least one character per piece, however narrow the column
        while fit < len(rest) and text_width(rest[:fit + 1], font, size, spacing) <= width:
            fit += 1
        cut = next((n + 1 for n in range(fit - 1, 0, -1) if rest[n] in _BREAK_AFTER), fit)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


class Pages:
    """The laid-out pages: per page a list of drawing operations, drawn once the number of
    pages is known (the footer's "Page n of m")."""

    def __init__(self) -> None:
        self.pages: list[list[tuple[Any, ...]]] = [[]]
        self.y = FIRST_TOP  # the cursor: distance from the top of the page

    def new_page(self) -> None:
        self.pages.append([])
        self.y = PAGE_TOP

    @property
    def at_top(self) -> bool:
        return self.y <= FIRST_TOP if len(self.pages) == 1 else self.y <= PAGE_TOP

    def fits(self, height: float) -> bool:
        return self.y + height <= BOTTOM

    def keep_together(self, margin: float, height: float) -> None:
        """Room for a block of `height` after its top `margin`, else the block starts a new
        page (where its margin is dropped, as CSS truncates margins at a page break)."""
        if self.fits(margin + height) or self.at_top:
            self.y += margin
        else:
            self.new_page()

    def text(self, x: float, top: float, text: str, font: str = REGULAR, size: float = BODY,
             color: tuple[float, float, float] = TEXT, align: str = "left", spacing: float = 0.0) -> None:
        """One line of text whose line box starts `top` below the page's top edge."""
        if text:
            self.pages[-1].append(("t", x, top + BASELINE * size, text, font, size, color, align, spacing))

    def rect(self, x: float, top: float, width: float, height: float, color: tuple[float, float, float]) -> None:
        self.pages[-1].append(("r", x, top, width, height, color))

    def rule(self, x1: float, x2: float, y: float, thickness: float, color: tuple[float, float, float]) -> None:
        self.pages[-1].append(("l", x1, x2, y, thickness, color))


def draw_lines(pages: Pages, x: float, top: float, lines: Sequence[str], font: str = REGULAR, size: float = BODY,
           color: tuple[float, float, float] = TEXT, align: str = "left", spacing: float = 0.0) -> float:
    """Draw wrapped lines from `top`; the height they take."""
    step = LINE * size
    for n, line in enumerate(lines):
        pages.text(x, top + n * step, line, font, size, color, align, spacing)
    return len(lines) * step


def date_text(value: date | None, default: str = "") -> str:
    return value.isoformat() if value else default  # the templates' |date:"Y-m-d"|default:...


def as_text(value: Any) -> str:
    return "" if value is None else str(value)




def draw(canvas: Canvas, operations: list[tuple[Any, ...]]) -> None:
    fill = font = None
    for op in operations:
        kind = op[0]
        if kind == "t":
            _, x, top, text, font_name, size, color, align, spacing = op
            if (font_name, size) != font:
                canvas.setFont(font_name, size)
                font = (font_name, size)
            if color != fill:
                canvas.setFillColorRGB(*color)
                fill = color
            if align == "right":
                canvas.drawRightString(x, PAGE_H - top, text, charSpace=spacing)
            else:
                canvas.drawString(x, PAGE_H - top, text, charSpace=spacing)
        elif kind == "r":
            _, x, top, width, height, color = op
            if color != fill:
                canvas.setFillColorRGB(*color)
                fill = color
            canvas.rect(x, PAGE_H - top - height, width, height, stroke=0, fill=1)
        else:
            _, x1, x2, y, thickness, color = op
            canvas.setStrokeColorRGB(*color)
            canvas.setLineWidth(thickness)
            canvas.line(x1, PAGE_H - y, x2, PAGE_H - y)



def write_pdf(pages: list[list[tuple[Any, ...]]], *, title: str, author: str, footer: str, issued: date | None) -> bytes:
    """The laid-out `pages` as a PDF: each page's operations, then its footers (`footer` left,
    "Page n of m" right); `issued` (the document's date of issue) as the PDF's dates."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1, lang="en",
                    initialFontName=REGULAR, initialFontSize=BODY)
    if issued:  # the document's dates: its date of issue (the same bytes every time)
        canvas._doc._timeStamp.YMDhms = (issued.year, issued.month, issued.day, 0, 0, 0)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setSubject(title)
    canvas.setCreator("otc")
    canvas.setProducer("otc (ReportLab)")
    total = len(pages)
    for number, operations in enumerate(pages, start=1):
        draw(canvas, operations)
        # @page: the footers in the bottom margin (22mm), vertically centred, 7pt grey
        canvas.setFont(REGULAR, 7)
        canvas.setFillColorRGB(*GREY)
        baseline = 11 * MM - 2.4
        canvas.drawString(16 * MM, baseline, footer)
        canvas.drawRightString(PAGE_W - 16 * MM, baseline, f"Page {number} of {total}")
        canvas.showPage()
    with FONT_FILES:  # saving makes the font subsets from the shared font files
        canvas.save()
    return out.getvalue()
