"""The sandbox's Label Recovery: the label of a shipment of its ledger, drawn again."""

from __future__ import annotations

import base64

from ups.sandbox import exchange
from ups.sandbox.exchange import ApiCall, Reply, ups_error
from ups.sandbox.labels import render_label
from ups.sandbox.rating import customer_context, success
from ups.sandbox.shipping import label_problem
from ups.sandbox.state import SandboxState


def handle_label_recovery(state: SandboxState, call: ApiCall) -> Reply:
    """Answer the label of one tracking number, in the format asked (GIF by default)."""
    body = call.body["LabelRecoveryRequest"]
    specification = body.get("LabelSpecification") or {"LabelImageFormat": {"Code": "GIF"}}
    if label_problem(specification):
        return ups_error(400, exchange.BAD_LABEL)
    tracking_number = str(body.get("TrackingNumber") or "")
    known = state.ledger.find(tracking_number=tracking_number) if tracking_number else []
    entry = known[0] if known else None
    if entry is None or entry.label is None:
        return ups_error(400, exchange.NO_LABEL)
    if entry.voided:
        return ups_error(400, exchange.LABEL_OF_VOIDED)
    code = str(specification["LabelImageFormat"]["Code"])
    image = render_label(code.upper(), entry.label)
    results = {
        "TrackingNumber": tracking_number,
        # The code as the request wrote it, as UPS's examples show it.
        "LabelImage": {
            "LabelImageFormat": {"Code": code},
            "GraphicImage": base64.b64encode(image).decode(),
        },
    }
    answer = {
        "Response": success(customer_context(body.get("Request", {}))),
        "ShipmentIdentificationNumber": entry.shipment_id,
        "LabelResults": [results],  # an array, as the spec has it (the parser takes both)
    }
    return Reply.json(200, {"LabelRecoveryResponse": answer})
