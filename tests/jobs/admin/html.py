"""Read admin pages as a person (or a browser test) would: by their data-testid attributes."""

from __future__ import annotations

import re
from html import unescape


def text_of(html: str, testid: str) -> str:
    """Return the text directly inside the first element with ``data-testid=testid``."""
    match = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>([^<]*)<', html)
    assert match, f"no element with data-testid={testid}"
    return match.group(1).strip()


def texts_of(html: str, testid: str) -> list[str]:
    """Return the text directly inside each element with ``data-testid=testid``, in order."""
    found = re.findall(rf'data-testid="{re.escape(testid)}"[^>]*>([^<]*)<', html)
    return [unescape(text.strip()) for text in found]


def table_of(html: str, testid: str) -> str:
    """Return the HTML of the table with ``data-testid=testid``."""
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</table>", start)]


def table_rows(html: str, marker: str) -> list[list[str]]:
    """Return the body rows of the table whose opening tag holds ``marker``, as cell texts."""
    start = html.index(marker)
    table = html[start : html.index("</table>", start)]
    body = table.split("<tbody>", 1)[-1].split("</tbody>", 1)[0]
    return [
        [unescape(" ".join(re.sub(r"<[^>]+>", " ", cell).split())) for cell in cells]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.DOTALL)
        if (cells := re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.DOTALL))
    ]


def count_of(html: str, testid: str) -> int:
    """Return how many elements carry ``data-testid=testid``."""
    return html.count(f'data-testid="{testid}"')


def hidden_fields(html: str, form_testid: str = "confirmation-page") -> dict[str, list[str]]:
    """Return the hidden inputs of the page's confirmation form, as the browser would post them."""
    start = html.index(f'data-testid="{form_testid}"')
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html[start:]
    ):
        fields.setdefault(name, []).append(value)
    return fields
