"""One PDF of 4 x 6 inch pages from label images, written page by page.

``Image.save(..., save_all=True)`` needs every page decoded in memory at once,
and its append mode rewrites every earlier page on each call; a batch of
10,000 labels needs neither. So Pillow's own PDF writer (``PdfParser``, the
one ``save_all`` uses) writes the file here, one decoded label at a time.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import IO

from PIL import Image, ImageOps, PdfParser

DPI = 200
PAGE_INCHES = (4, 6)
PAGE_PIXELS = (PAGE_INCHES[0] * DPI, PAGE_INCHES[1] * DPI)
PAGE_POINTS = (PAGE_INCHES[0] * 72, PAGE_INCHES[1] * 72)

Opener = Callable[[], IO[bytes]]


def label_page(handle: IO[bytes]) -> Image.Image:
    """Return a label image as one black-and-white 4 x 6 inch page at 200 dpi."""
    with Image.open(handle) as label:
        image = label.convert("L")
    if image.width > image.height:
        # UPS sends GIF labels lying on their side; a 4 x 6 page is upright.
        image = image.rotate(-90, expand=True)
    image = ImageOps.contain(image, PAGE_PIXELS)
    page = Image.new("L", PAGE_PIXELS, 255)
    page.paste(image, ((PAGE_PIXELS[0] - image.width) // 2, (PAGE_PIXELS[1] - image.height) // 2))
    return page.convert("1", dither=Image.Dither.NONE)


def write_label_pdf(out: IO[bytes], labels: Sequence[Opener]) -> int:
    """Write one page per label to ``out``; return the number of pages."""
    pdf = PdfParser.PdfParser(f=out, mode="w+b")
    pdf.start_writing()
    pdf.write_header()
    pdf.pages.extend(pdf.next_object_id(0) for _ in labels)
    pdf.write_catalog()
    width, height = PAGE_POINTS
    drawing = f"q {width} 0 0 {height} 0 0 cm /Label Do Q\n".encode()
    for number, opener in enumerate(labels):
        with opener() as handle:
            page = label_page(handle)
        image = pdf.write_obj(
            None,
            stream=zlib.compress(page.tobytes()),
            Type=PdfParser.PdfName("XObject"),
            Subtype=PdfParser.PdfName("Image"),
            Width=page.width,
            Height=page.height,
            BitsPerComponent=1,
            ColorSpace=PdfParser.PdfName("DeviceGray"),
            Filter=PdfParser.PdfName("FlateDecode"),
        )
        contents = pdf.write_obj(None, stream=drawing)
        pdf.write_page(
            number,
            Resources=PdfParser.PdfDict(XObject=PdfParser.PdfDict(Label=image)),
            MediaBox=[0, 0, width, height],
            Contents=contents,
        )
    pdf.write_xref_and_trailer()
    return len(labels)
