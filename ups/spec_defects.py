"""The known defects of UPS's official specs, tolerated here and nowhere else.

``shared/ups/CONTRACT.md`` lists those of the APIs it covers; Label Recovery,
which it does not cover, adds two (docs/ups.md). UPS's own examples fail strict
validation because of them, and UPS accepts requests that hit them. Each defect is one
entry in ``KNOWN_DEFECTS`` that patches the loaded spec (never the file). A
patch first checks that the defect is still there, so a corrected spec shows
up as a loud error instead of a silent drift. Nothing else is relaxed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Spec = dict[str, Any]

TRAILING_BLANKS_RE = re.compile(r"[ \t]+(?=\r?$)", flags=re.MULTILINE)


class SpecDefectNotFound(RuntimeError):
    """A known defect is no longer in the spec: the spec changed, review this module."""


def strip_trailing_blanks(text: str) -> str:
    """Defect 1: Shipping.yaml and Tracking.yaml end lines with TABs that PyYAML rejects."""
    return TRAILING_BLANKS_RE.sub("", text)


def _schema(spec: Spec, name: str) -> dict[str, Any]:
    try:
        schema: dict[str, Any] = spec["components"]["schemas"][name]
    except KeyError:
        raise SpecDefectNotFound(f"The spec has no schema {name!r} any more.") from None
    return schema


def _drop_required_request_option(spec: Spec) -> None:
    request = _schema(spec, "RateRequest_Request")
    if "RequestOption" not in request.get("required", ()) or "RequestOption" in request.get(
        "properties", {}
    ):
        raise SpecDefectNotFound("RateRequest_Request.RequestOption is defined or optional now.")
    request["required"] = [name for name in request["required"] if name != "RequestOption"]


def _array_or_object(schema_name: str, field: str) -> Callable[[Spec], None]:
    def patch(spec: Spec) -> None:
        prop = _schema(spec, schema_name).get("properties", {}).get(field)
        if not prop or prop.get("type") != "array" or "items" not in prop:
            raise SpecDefectNotFound(f"{schema_name}.{field} is no longer an array.")
        item = prop["items"]
        prop.clear()
        prop["anyOf"] = [{"type": "array", "items": item}, item]

    return patch


def _rating_service_code_min_length(spec: Spec) -> None:
    code = _schema(spec, "Shipment_Service")["properties"]["Code"]
    if code.get("minLength") != 3:
        raise SpecDefectNotFound("Rating Shipment_Service.Code no longer has minLength 3.")
    code["minLength"] = 2


def _label_stock_size_optional_for_gif(spec: Spec) -> None:
    label = _schema(spec, "ShipmentRequest_LabelSpecification")
    if "LabelStockSize" not in label.get("required", ()):
        raise SpecDefectNotFound("ShipmentRequest LabelStockSize is no longer required.")
    label["required"] = [name for name in label["required"] if name != "LabelStockSize"]
    # Still required for every format but GIF: exactly the deviation of the GIF example.
    gif = {"properties": {"LabelImageFormat": {"properties": {"Code": {"enum": ["GIF"]}}}}}
    label["anyOf"] = [{"required": ["LabelStockSize"]}, gif]


def _roadie_fields_optional(spec: Spec) -> None:
    request = _schema(spec, "LabelRecoveryRequest")
    roadie = ("TrackingNumbers", "ReferenceValues")
    if not set(roadie) <= set(request.get("required", ())):
        raise SpecDefectNotFound("LabelRecoveryRequest no longer requires its Roadie fields.")
    request["required"] = [name for name in request["required"] if name not in roadie]


def _three_letter_label_codes(*schema_names: str) -> Callable[[Spec], None]:
    def patch(spec: Spec) -> None:
        for name in schema_names:
            code = _schema(spec, name)["properties"]["Code"]
            if code.get("minLength") != 4:
                raise SpecDefectNotFound(f"{name}.Code no longer has minLength 4.")
            code["minLength"] = 3

    return patch


@dataclass(frozen=True)
class SpecDefect:
    """One defect of one spec, as CONTRACT.md states it, and the patch that tolerates it."""

    api: str
    summary: str
    patch: Callable[[Spec], None]


KNOWN_DEFECTS: tuple[SpecDefect, ...] = (
    SpecDefect(
        "rating",
        "RateRequest lists Request.RequestOption as required but never defines it.",
        _drop_required_request_option,
    ),
    SpecDefect(
        "rating",
        "Package is an array in the schema, a single object in most examples; UPS accepts both.",
        _array_or_object("RateRequest_Shipment", "Package"),
    ),
    SpecDefect(
        "rating",
        "ShipmentCharge is an array in the schema, a single object in most examples.",
        _array_or_object("Shipment_PaymentDetails", "ShipmentCharge"),
    ),
    SpecDefect(
        "rating",
        "Rating Service.Code has minLength 3, which rejects the real code 03.",
        _rating_service_code_min_length,
    ),
    SpecDefect(
        "shipping",
        "Package is an array in the schema, a single object in most examples; UPS accepts both.",
        _array_or_object("ShipmentRequest_Shipment", "Package"),
    ),
    SpecDefect(
        "shipping",
        "ShipmentCharge is an array in the schema, a single object in most examples.",
        _array_or_object("Shipment_PaymentInformation", "ShipmentCharge"),
    ),
    SpecDefect(
        "shipping",
        "Ship LabelStockSize is marked required but absent from the GIF example.",
        _label_stock_size_optional_for_gif,
    ),
    # Label Recovery (docs/ups.md; not in CONTRACT.md, which predates its use here).
    SpecDefect(
        "shipping",
        "LabelRecoveryRequest requires TrackingNumbers and ReferenceValues, which its own "
        "descriptions say are for Roadie (1R) shipments only; its standard example has neither.",
        _roadie_fields_optional,
    ),
    SpecDefect(
        "shipping",
        "Label Recovery's LabelImageFormat.Code has minLength 4, which rejects GIF and ZPL, "
        "the codes its own examples and descriptions use.",
        _three_letter_label_codes(
            "LabelRecovery_LabelSpecification_LabelImageFormat", "LabelImage_LabelImageFormat"
        ),
    ),
)


def tolerate(api: str, spec: Spec) -> Spec:
    """Apply the known defects of ``api`` to ``spec`` (a private copy) and return it."""
    for defect in KNOWN_DEFECTS:
        if defect.api == api:
            defect.patch(spec)
    return spec
