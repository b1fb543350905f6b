"""Sandbox labels: a real 4 x 6 inch GIF (200 dpi) or a ZPL document, marked as samples."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

DPI = 200
WIDTH, HEIGHT = 4 * DPI, 6 * DPI
MARGIN = 30
SAMPLE_NOTICE = "UPS SANDBOX - SAMPLE LABEL, NOT VALID FOR SHIPPING"


@dataclass(frozen=True)
class LabelContent:
    """What a label shows."""

    tracking_number: str
    service_name: str
    ship_from: tuple[str, ...]
    ship_to: tuple[str, ...]
    weight: str
    reference: str


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _block(
    draw: ImageDraw.ImageDraw, top: int, title: str, lines: tuple[str, ...], size: int
) -> int:
    draw.text((MARGIN, top), title, fill=0, font=_font(22))
    top += 30
    for line in lines:
        draw.text((MARGIN + 10, top), line[:40], fill=0, font=_font(size))
        top += size + 8
    return top + 10


def _bars(draw: ImageDraw.ImageDraw, top: int, text: str) -> None:
    # Not a scannable barcode: a pattern derived from the number, so each label differs.
    x = MARGIN
    for char in text:
        for bit in f"{ord(char):08b}":
            width = 3 if bit == "1" else 2
            if bit == "1":
                draw.rectangle((x, top, x + width - 1, top + 140), fill=0)
            x += width + 2


@lru_cache(maxsize=16)
def _background(ship_from: tuple[str, ...]) -> tuple[Image.Image, int]:
    """Return the part every label of one shipper shares, and where the ship-to block starts.

    Drawing text is most of a label's cost after encoding: the border, the
    FROM block and the sample notice are drawn once per ship-from address.
    """
    image = Image.new("1", (WIDTH, HEIGHT), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, WIDTH - 5, HEIGHT - 5), outline=0, width=4)
    top = _block(draw, MARGIN, "FROM", ship_from, 22)
    draw.line((MARGIN, top, WIDTH - MARGIN, top), fill=0, width=3)
    draw.text((MARGIN, HEIGHT - 90), SAMPLE_NOTICE, fill=0, font=_font(20))
    return image, top


def render_gif(content: LabelContent) -> bytes:
    """Return a 4 x 6 inch black and white GIF showing the addresses and the tracking number."""
    background, top = _background(content.ship_from)
    image = background.copy()
    draw = ImageDraw.Draw(image)
    top = _block(draw, top + 20, "SHIP TO", content.ship_to, 34)
    draw.line((MARGIN, top, WIDTH - MARGIN, top), fill=0, width=3)
    draw.text((MARGIN, top + 20), content.service_name.upper(), fill=0, font=_font(40))
    draw.text((MARGIN, top + 80), f"TRACKING #: {content.tracking_number}", fill=0, font=_font(30))
    _bars(draw, top + 140, content.tracking_number)
    footer = HEIGHT - 190
    draw.text((MARGIN, footer), f"WEIGHT: {content.weight} LBS", fill=0, font=_font(24))
    draw.text((MARGIN, footer + 40), f"REFERENCE: {content.reference}", fill=0, font=_font(24))
    buffer = io.BytesIO()
    # One bit per pixel, as thermal label printers print: a third of the bytes and half the
    # encoding time of a grey-scale palette.
    image.save(buffer, format="GIF")
    return buffer.getvalue()


def _zpl_text(text: str) -> str:
    # ^ and ~ start ZPL commands; field data must not contain them.
    return text.replace("^", " ").replace("~", " ")


def render_zpl(content: LabelContent) -> bytes:
    """Return a ZPL II document for a 4 x 6 inch label at 203 dpi."""
    lines = ["^XA", "^CI28", "^PW812", "^LL1218", "^FO30,30^A0N,28,28^FDFROM^FS"]
    top = 65
    for line in content.ship_from:
        lines.append(f"^FO40,{top}^A0N,26,26^FD{_zpl_text(line)}^FS")
        top += 32
    top += 20
    lines.append(f"^FO30,{top}^A0N,30,30^FDSHIP TO^FS")
    top += 40
    for line in content.ship_to:
        lines.append(f"^FO40,{top}^A0N,40,40^FD{_zpl_text(line)}^FS")
        top += 48
    top += 30
    lines += [
        f"^FO30,{top}^A0N,44,44^FD{_zpl_text(content.service_name.upper())}^FS",
        f"^FO30,{top + 60}^A0N,34,34^FDTRACKING #: {content.tracking_number}^FS",
        f"^FO60,{top + 110}^BY3^BCN,160,N,N,N^FD{content.tracking_number}^FS",
        f"^FO30,1050^A0N,28,28^FDWEIGHT: {_zpl_text(content.weight)} LBS^FS",
        f"^FO30,1090^A0N,28,28^FDREFERENCE: {_zpl_text(content.reference)}^FS",
        f"^FO30,1140^A0N,24,24^FD{SAMPLE_NOTICE}^FS",
        "^XZ",
    ]
    return ("\n".join(lines) + "\n").encode()


def render_label(label_format: str, content: LabelContent) -> bytes:
    """Return the label in ``label_format`` (GIF or ZPL)."""
    return render_gif(content) if label_format == "GIF" else render_zpl(content)
