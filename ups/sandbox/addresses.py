"""The sandbox's Address Validation (XAV): deterministic rules, US and PR only.

- on the reject list, or a postal code that is not 5 or 9 digits: no candidates;
- no postal code: ambiguous, two candidates in the city (ZIPs derived from it);
- otherwise valid: one candidate, upper-cased, with a derived ZIP+4.
Classification: commercial when a line names a suite, floor or building or
the name a company (INC, LLC...), residential otherwise.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ups.sandbox import exchange
from ups.sandbox.exchange import ApiCall, Reply, ups_error
from ups.sandbox.pricing import address_lines
from ups.sandbox.rating import success
from ups.sandbox.state import SandboxState

COMMERCIAL_WORDS = {"STE", "SUITE", "FL", "FLOOR", "BLDG", "DOCK", "INC", "LLC", "LTD", "CORP"}
CLASSES = {"1": "Commercial", "2": "Residential"}


def _digits(seed: str, count: int) -> str:
    number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(number)[-count:]


def _classification(key_format: dict[str, Any]) -> dict[str, str]:
    words = " ".join([*address_lines(key_format), str(key_format.get("ConsigneeName", ""))])
    tokens = {token.strip(".,#").upper() for token in words.split()}
    code = "1" if tokens & COMMERCIAL_WORDS else "2"
    return {"Code": code, "Description": CLASSES[code]}


def _candidate(key_format: dict[str, Any], primary: str, extended: str) -> dict[str, Any]:
    normalized = {
        "AddressLine": [line.upper() for line in address_lines(key_format)],
        "PoliticalDivision2": str(key_format.get("PoliticalDivision2", "")).upper(),
        "PoliticalDivision1": str(key_format.get("PoliticalDivision1", "")).upper(),
        "PostcodePrimaryLow": primary,
        "PostcodeExtendedLow": extended,
        "CountryCode": key_format["CountryCode"],
    }
    if key_format.get("ConsigneeName"):
        normalized["ConsigneeName"] = str(key_format["ConsigneeName"]).upper()
    candidate: dict[str, Any] = {
        "AddressKeyFormat": {key: value for key, value in normalized.items() if value}
    }
    return candidate


def handle_xav(state: SandboxState, call: ApiCall) -> Reply:
    """Validate (option 1), classify (2) or both (3) one address."""
    key_format = call.body["XAVRequest"]["AddressKeyFormat"]
    if key_format.get("CountryCode") not in ("US", "PR"):
        return ups_error(400, exchange.XAV_COUNTRY)
    option = call.params["requestoption"]
    primary = str(key_format.get("PostcodePrimaryLow", ""))
    lines = address_lines(key_format)
    response: dict[str, Any] = {"Response": success(None)}
    rejected = state.faults.rejects("xav", primary, lines)
    if rejected or (primary and not (primary.isdigit() and len(primary) == 5)) or not lines:
        response["NoCandidatesIndicator"] = ""
        if option in ("2", "3"):
            response["AddressClassification"] = {"Code": "0", "Description": "Unclassified"}
        return Reply.json(200, {"XAVResponse": response})
    seed = "|".join([*lines, str(key_format.get("PoliticalDivision2", ""))]).upper()
    if primary:
        response["ValidAddressIndicator"] = ""
        candidates = [_candidate(key_format, primary, _digits(seed, 4))]
    else:
        response["AmbiguousAddressIndicator"] = ""
        base = int(_digits(seed, 5))
        candidates = [
            _candidate(key_format, f"{(base + step) % 100000:05d}", _digits(f"{seed}{step}", 4))
            for step in (0, 7)
        ]
    classification = _classification(key_format)
    if option in ("2", "3"):
        response["AddressClassification"] = classification
        for candidate in candidates:
            candidate["AddressClassification"] = classification
    response["Candidate"] = candidates
    return Reply.json(200, {"XAVResponse": response})
