"""Loading the specs once and checking parameters and bodies against them."""

from __future__ import annotations

import pytest

from ups import schemas

TRACK = ("tracking", "GET", "/track/v1/details/{inquiryNumber}")
XAV = ("xav", "POST", "/addressvalidation/{version}/{requestoption}")


def test_specs_and_operations_are_built_once_per_process() -> None:
    first = schemas.operation("shipping", "POST", "/shipments/{version}/ship")

    assert schemas.operation("shipping", "POST", "/shipments/{version}/ship") is first
    assert schemas.raw_spec("shipping") is schemas.raw_spec("shipping")
    assert schemas.tolerant_spec("shipping") is not schemas.raw_spec("shipping")


def test_tracking_requires_the_trace_headers() -> None:
    operation = schemas.operation(*TRACK)
    path = {"inquiryNumber": "1Z999AA10123456784"}

    assert operation.check(path_params=path, headers={}) == [
        "header parameter transId: is required",
        "header parameter transactionSrc: is required",
    ]
    assert operation.check(path_params=path, headers={"TRANSID": "x", "transactionsrc": "y"}) == []


def test_integer_parameters_are_read_from_text() -> None:
    operation = schemas.operation(*XAV)
    body = {"XAVRequest": {"AddressKeyFormat": {"CountryCode": "US"}}}

    assert operation.check(path_params={"version": "v2", "requestoption": "3"}, body=body) == []
    assert operation.check(path_params={"version": "v2", "requestoption": "x"}, body=body) == [
        "path parameter requestoption: 'x' is not a whole number"
    ]


def test_a_missing_body_is_reported() -> None:
    operation = schemas.operation(*XAV)

    assert operation.check(path_params={"version": "v2", "requestoption": "1"}) == [
        "(the request body): is required"
    ]


def test_an_unknown_operation_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="no operation POST"):
        schemas.operation("tracking", "POST", "/track/v1/details/{inquiryNumber}")
