"""Label Recovery: the label of an existing shipment, fetched again over real HTTP."""

from __future__ import annotations

import io
from typing import Any

import pytest
import requests
from PIL import Image

from tests.fixtures.ups_sandbox import SandboxController
from tests.ups.conftest import shipment
from tests.ups.test_sandbox_api import HEADERS, call, token
from ups import schemas
from ups.answers import MalformedAnswer
from ups.client import UpsClient
from ups.errors import UpsDefinitiveError
from ups.parsers import parse_label_recovery
from ups.payloads import label_recovery_body
from ups.types import RecoveredLabel

LABEL = ("shipping", "POST", "/labels/{version}/recovery")
PATH = "/api/labels/v1/recovery"


def test_the_label_of_a_shipment_comes_back_as_it_was_printed(client: UpsClient) -> None:
    shipped = client.ship(shipment("ROW-L1"))

    recovered = client.recover_label(shipped.tracking_number)

    assert recovered == RecoveredLabel(shipped.tracking_number, "GIF", recovered.label_bytes)
    image = Image.open(io.BytesIO(recovered.label_bytes))
    assert (image.format, image.size) == ("GIF", (800, 1200))
    assert recovered.label_bytes == shipped.label_bytes  # the same drawing, drawn again
    assert "bytes>" in repr(recovered)  # the image stays out of logs


def test_a_thermal_label_is_recovered_in_zpl(client: UpsClient) -> None:
    shipped = client.ship(shipment("ROW-L2"))

    recovered = client.recover_label(shipped.tracking_number, label_format="zpl")

    assert recovered.label_format == "ZPL"
    assert recovered.label_bytes.startswith(b"^XA")
    assert shipped.tracking_number.encode() in recovered.label_bytes


def test_a_number_ups_does_not_know_or_a_voided_shipment_has_no_label(
    client: UpsClient,
) -> None:
    voided = client.ship(shipment("ROW-L3"))
    client.void(voided.shipment_id)

    with pytest.raises(UpsDefinitiveError) as unknown:
        client.recover_label("1Z999AA10123456784")
    with pytest.raises(UpsDefinitiveError) as gone:
        client.recover_label(voided.tracking_number)

    assert (unknown.value.code, gone.value.code) == ("190202", "190203")
    assert "voided" in gone.value.message


def test_recovery_has_no_side_effect_so_a_transient_failure_is_retried(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    shipped = client.ship(shipment("ROW-L4"))
    ups_sandbox.set_fault("http_503", endpoint="label", count=2, retry_after=0)

    assert client.recover_label(shipped.tracking_number).label_bytes
    assert ups_sandbox.calls("label") == 3


def test_the_sandbox_answer_matches_the_spec_but_for_its_known_defect(
    client: UpsClient, ups_sandbox: SandboxController
) -> None:
    shipped = client.ship(shipment("ROW-L5"))
    body = label_recovery_body(shipped.tracking_number, label_format="GIF")

    answer = call(ups_sandbox, "POST", PATH, json=body)

    assert answer.status_code == 200
    tolerant = schemas.response_validator(*LABEL, "200", tolerate=True)
    assert list(tolerant.iter_errors(answer.json())) == []
    published = schemas.response_validator(*LABEL, "200")
    assert [error.message for error in published.iter_errors(answer.json())] == [
        "'GIF' is too short"
    ]


def test_one_label_result_as_an_object_is_read_as_well() -> None:
    image = {"LabelImageFormat": {"Code": "gif"}, "GraphicImage": "R0lGODlh"}
    as_object = {
        "LabelRecoveryResponse": {"LabelResults": {"TrackingNumber": "1Z1", "LabelImage": image}}
    }
    as_array = {
        "LabelRecoveryResponse": {"LabelResults": [{"TrackingNumber": "1Z1", "LabelImage": image}]}
    }
    other = {
        "LabelRecoveryResponse": {"LabelResults": [{"TrackingNumber": "1Z2", "LabelImage": image}]}
    }

    assert parse_label_recovery(as_object, "1Z1") == parse_label_recovery(as_array, "1Z1")
    assert parse_label_recovery(as_object, "1Z1") == RecoveredLabel("1Z1", "GIF", b"GIF89a")
    with pytest.raises(MalformedAnswer, match="has no 1Z1"):
        parse_label_recovery(other, "1Z1")


@pytest.mark.parametrize("label_format", ["GIF", "ZPL"])
def test_our_request_breaks_the_published_spec_only_on_its_known_defects(
    label_format: str,
) -> None:
    body = label_recovery_body("1Z999AA10123456784", label_format=label_format)
    params = {"version": "v1"}

    tolerant = schemas.operation(*LABEL).check(path_params=params, body=body)
    published = schemas.operation(*LABEL, tolerate=False).check(path_params=params, body=body)

    assert tolerant == []
    assert sorted(published) == [
        "LabelRecoveryRequest.LabelSpecification.LabelImageFormat.Code: "
        f"'{label_format}' is too short",
        "LabelRecoveryRequest: 'ReferenceValues' is a required property",
        "LabelRecoveryRequest: 'TrackingNumbers' is a required property",
    ]


def test_a_request_without_a_tracking_number_or_with_a_bad_format_is_refused(
    ups_sandbox: SandboxController,
) -> None:
    headers = {**HEADERS, "Authorization": f"Bearer {token(ups_sandbox.url)}"}
    bad_format = label_recovery_body("1Z999AA10123456784", label_format="GIF")
    bad_format["LabelRecoveryRequest"]["LabelSpecification"]["LabelImageFormat"]["Code"] = "PNGX"
    empty: dict[str, Any] = {"LabelRecoveryRequest": {"Request": {}}}

    answers = [
        requests.post(f"{ups_sandbox.url}{PATH}", json=body, headers=headers, timeout=5)
        for body in (empty, bad_format)
    ]

    codes = [answer.json()["response"]["errors"][0]["code"] for answer in answers]
    assert [answer.status_code for answer in answers] == [400, 400]
    assert codes == ["190202", "120500"]
