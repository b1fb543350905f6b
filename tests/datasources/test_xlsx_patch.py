"""The sheet XML patcher on the shapes other programs write: prefixes, missing r, spans."""

from __future__ import annotations

import pytest

from datasources.adapters.xlsx_patch import NewCell, PatchError, patch_sheet

PREFIXED = (
    '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<x:dimension ref="A1:B3"/><x:sheetData>'
    '<x:row r="1" spans="1:2"><x:c r="A1" t="s" s="4"><x:v>0</x:v></x:c>'
    '<x:c r="B1" t="s"><x:v>1</x:v></x:c></x:row>'
    '<x:row r="2" spans="1:2"/>'
    '<x:row r="3" spans="1:2"><x:c r="A3"><x:v>7</x:v></x:c></x:row>'
    "</x:sheetData></x:worksheet>"
)


def test_patches_prefixed_xml_and_widens_spans_and_dimension() -> None:
    xml = patch_sheet(
        PREFIXED,
        {
            1: {3: NewCell("tracking_number", like_left=True)},
            2: {3: NewCell("1Z1")},
            3: {3: NewCell("a < b & c")},
        },
    )

    assert '<x:dimension ref="A1:C3"/>' in xml
    assert (
        '<x:row r="1" spans="1:3"><x:c r="A1" t="s" s="4"><x:v>0</x:v></x:c>'
        '<x:c r="B1" t="s"><x:v>1</x:v></x:c><x:c r="C1" t="inlineStr"><x:is>'
        '<x:t xml:space="preserve">tracking_number</x:t></x:is></x:c></x:row>'
    ) in xml
    assert '<x:row r="2" spans="1:3"><x:c r="C2" t="inlineStr">' in xml
    assert "a &lt; b &amp; c" in xml


def test_rows_and_cells_without_references_are_counted() -> None:
    xml = (
        "<worksheet><sheetData><row><c><v>1</v></c><c><v>2</v></c></row>"
        "<row><c><v>3</v></c><c><v>4</v></c></row></sheetData></worksheet>"
    )

    patched = patch_sheet(xml, {2: {2: NewCell("new"), 3: NewCell("more")}})

    assert patched.endswith(
        "<row><c><v>3</v></c>"
        '<c r="B2" t="inlineStr"><is><t xml:space="preserve">new</t></is></c>'
        '<c r="C2" t="inlineStr"><is><t xml:space="preserve">more</t></is></c>'
        "</row></sheetData></worksheet>"
    )


def test_a_replaced_cell_keeps_its_style_and_drops_its_shared_string() -> None:
    xml = '<sheetData><row r="5"><c r="B5" s="9" t="s"><v>3</v></c></row></sheetData>'

    assert patch_sheet(xml, {5: {2: NewCell("x\x00y")}}) == (
        '<sheetData><row r="5"><c r="B5" s="9" t="inlineStr"><is>'
        '<t xml:space="preserve">xy</t></is></c></row></sheetData>'
    )


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        ("<worksheet><sheetData/></worksheet>", "no rows"),
        ('<sheetData><row r="1"/></sheetData>', "row 4 is not in the sheet"),
        ('<sheetData><row r="4"><c r="A4"><f>1+1</f></c></row></sheetData>', "holds a formula"),
    ],
)
def test_unexpected_shapes_are_refused(xml: str, problem: str) -> None:
    with pytest.raises(PatchError, match=problem):
        patch_sheet(xml, {4: {1: NewCell("x")}})
