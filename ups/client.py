"""The UPS client: the only code in ShipOps that speaks to UPS (or to its local sandbox)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from ups.auth import TokenProvider
from ups.config import UpsConfig
from ups.errors import UpsAuthError, UpsDefinitiveError, UpsError
from ups.parsers import (
    NOT_FOUND_CODES,
    parse_label_recovery,
    parse_rates,
    parse_ship,
    parse_track,
    parse_void,
    parse_xav,
)
from ups.payloads import LABEL_FORMATS, label_recovery_body, rate_body, ship_body, xav_body
from ups.transport import Attempt, HttpCall, Transport
from ups.types import (
    Address,
    AddressValidation,
    RateQuote,
    RecoveredLabel,
    ShipmentRequest,
    ShipResult,
    TrackedPackage,
    VoidResult,
)

T = TypeVar("T")
RATING_VERSION = "v2409"
SHIPPING_VERSION = "v2409"
LABEL_RECOVERY_VERSION = "v1"
XAV_VERSION = "v2"
XAV_VALIDATE_AND_CLASSIFY = "3"
XAV_MAX_CANDIDATES = "3"


@dataclass(frozen=True)
class PreparedShip:
    """A ship request made ready ahead of sending (``UpsClient.prepare_ship``)."""

    request: ShipmentRequest
    label_format: str
    call: HttpCall | None = None  # None: built when sent (it could not be built ahead)
    first: Attempt | None = None  # None: no token in memory when it was prepared


def _checked_label_format(label_format: str) -> str:
    label_format = label_format.upper()
    if label_format not in LABEL_FORMATS:
        raise ValueError(f"Label format {label_format!r} is not one of {LABEL_FORMATS}.")
    return label_format


def _segment(value: str) -> str:
    return quote(value, safe="")


class UpsClient:
    """Rate, ship, void, validate addresses and track, with typed results.

    Built without arguments it reads ``settings.UPS_*``; keyword arguments
    (``read_timeout=0.5``, ``environment="cie"``...) override single values.
    """

    def __init__(self, *, config: UpsConfig | None = None, **overrides: Any) -> None:
        self.config = config or UpsConfig.from_settings(**overrides)
        self.transport = Transport(self.config)
        self.tokens = TokenProvider(self.config, self.transport)

    def __repr__(self) -> str:
        return f"<UpsClient {self.config.environment} {self.config.host}>"

    def authenticate(self) -> None:
        """Get (or reuse) the access token now, so concurrent calls that follow share it."""
        self.tokens.get()

    def rate(self, request: ShipmentRequest) -> RateQuote:
        """Return the price of ``request``'s service."""
        quotes = self._rate(request, shop=False)
        matching = [quote for quote in quotes if quote.service_code == request.service_code]
        return (matching or quotes)[0]

    def shop(self, request: ShipmentRequest) -> list[RateQuote]:
        """Return the price of every service UPS offers for ``request``."""
        return self._rate(request, shop=True)

    def ship(self, request: ShipmentRequest, *, label_format: str = "GIF") -> ShipResult:
        """Create the shipment and return its tracking number, cost and label.

        Never retried once sent: a lost answer raises UpsOutcomeUnknownError.
        """
        return self.send_ship(self.prepare_ship(request, label_format=label_format))

    def prepare_ship(self, request: ShipmentRequest, *, label_format: str = "GIF") -> PreparedShip:
        """Build the ship call for ``request`` now, to be sent later by ``send_ship``.

        Uses the token this process holds in memory; never asks the cache or
        UPS for one, and never raises a UpsError: what cannot be built now is
        built, and fails, when it is sent.
        """
        label_format = _checked_label_format(label_format)
        try:
            call = self._ship_call(request, label_format)
            token = self.tokens.in_memory()
            first = self.transport.prepare(call, token=token) if token else None
        except UpsError:
            return PreparedShip(request, label_format)
        return PreparedShip(request, label_format, call, first)

    def send_ship(self, prepared: PreparedShip, *, marked_at: float | None = None) -> ShipResult:
        """Send a ship call built by ``prepare_ship``; see ``ship``.

        ``marked_at`` (``time.monotonic()``, taken before the row went in
        flight; default now): no attempt is sent later than
        ``ship_send_seconds`` after it, so that UPS cannot create the shipment
        later than ``UpsConfig.longest_ship_call_seconds`` after the row's
        phase A. A monotonic clock: a wall clock set back meanwhile does not
        stretch the deadline.
        """
        call = prepared.call or self._ship_call(prepared.request, prepared.label_format)
        start = time.monotonic() if marked_at is None else marked_at
        send_by = start + self.config.ship_send_seconds
        return self._api(call, parse_ship, first=prepared.first, send_by=send_by)

    def void(self, shipment_id: str, *, tracking_numbers: Sequence[str] = ()) -> VoidResult:
        """Void a shipment (or some of its packages); voiding twice is harmless at UPS."""
        url = (
            f"{self.config.api_url}/shipments/{SHIPPING_VERSION}/void/cancel/"
            f"{_segment(shipment_id)}"
        )
        params = None
        if len(tracking_numbers) == 1:
            params = {"trackingnumber": tracking_numbers[0]}
        elif tracking_numbers:  # UPS's documented form for several packages
            params = {"trackingnumber": "[" + ",".join(f'"{n}"' for n in tracking_numbers) + "]"}
        call = HttpCall("void request", "DELETE", url, params=params)
        return self._api(call, lambda body: parse_void(body, shipment_id))

    def recover_label(self, tracking_number: str, *, label_format: str = "GIF") -> RecoveredLabel:
        """Fetch the label of an existing shipment again (UPS's Label Recovery).

        No side effect at UPS: retried like a rate call. A number UPS has no
        label for raises UpsDefinitiveError.
        """
        label_format = _checked_label_format(label_format)
        url = f"{self.config.api_url}/labels/{LABEL_RECOVERY_VERSION}/recovery"
        body = label_recovery_body(tracking_number, label_format=label_format)
        call = HttpCall("label recovery", "POST", url, json_body=body)
        return self._api(call, lambda answer: parse_label_recovery(answer, tracking_number))

    def validate_address(self, address: Address) -> AddressValidation:
        """Validate and classify a US or PR address at street level."""
        url = f"{self.config.api_url}/addressvalidation/{XAV_VERSION}/{XAV_VALIDATE_AND_CLASSIFY}"
        params = {"maximumcandidatelistsize": XAV_MAX_CANDIDATES}
        call = HttpCall(
            "address validation", "POST", url, params=params, json_body=xav_body(address)
        )
        return self._api(call, parse_xav)

    def track(self, tracking_number: str) -> list[TrackedPackage]:
        """Return what UPS knows about a tracking number (empty when nothing)."""
        url = f"{self.config.api_url}/track/v1/details/{_segment(tracking_number)}"
        return self._track(HttpCall("tracking request", "GET", url))

    def track_by_reference(
        self, reference: str, *, from_date: date, to_date: date
    ) -> list[TrackedPackage]:
        """Return the packages shipped with ``reference`` between two pickup dates."""
        url = f"{self.config.api_url}/track/v1/reference/details/{_segment(reference)}"
        params = {
            "fromPickUpDate": from_date.strftime("%Y%m%d"),
            "toPickUpDate": to_date.strftime("%Y%m%d"),
            "shipperNum": self._shipper_number(),
            "refNumType": "SmallPackage",
        }
        return self._track(HttpCall("tracking by reference", "GET", url, params=params))

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()

    def _rate(self, request: ShipmentRequest, *, shop: bool) -> list[RateQuote]:
        body = rate_body(request, self._shipper_number(), shop=shop)
        option = "Shop" if shop else "Rate"
        url = f"{self.config.api_url}/rating/{RATING_VERSION}/{option}"
        what = "shop request" if shop else "rate request"
        return self._api(HttpCall(what, "POST", url, json_body=body), parse_rates)

    def _track(self, call: HttpCall) -> list[TrackedPackage]:
        try:
            return self._api(call, parse_track)
        except UpsDefinitiveError as error:
            if error.code in NOT_FOUND_CODES:
                return []
            raise

    def _ship_call(self, request: ShipmentRequest, label_format: str) -> HttpCall:
        body = ship_body(request, self._shipper_number(), label_format=label_format)
        url = f"{self.config.api_url}/shipments/{SHIPPING_VERSION}/ship"
        return HttpCall("ship request", "POST", url, side_effect=True, json_body=body)

    def _shipper_number(self) -> str:
        if not self.config.shipper_number:
            raise UpsAuthError(
                "UPS_NOT_CONFIGURED",
                "The UPS shipper number is not configured: set UPS_SHIPPER_NUMBER "
                "in the environment.",
            )
        return self.config.shipper_number

    @sensitive_variables("token")
    def _api(
        self,
        call: HttpCall,
        parse: Callable[[Any], T],
        first: Attempt | None = None,
        send_by: float | None = None,
    ) -> T:
        """Send an authorized call; on a 401, fetch a new token once and send it once more.

        ``first`` (built ahead) is sent if it carries the token in use; no
        attempt leaves after ``send_by`` (see ``Transport.perform``).
        """
        fresh = False
        while True:
            token = self.tokens.get()
            try:
                return self.transport.perform(
                    call, parse, token=token, first=first, send_by=send_by
                )
            except UpsAuthError as error:
                if error.http_status != 401:
                    raise
                if fresh:
                    raise UpsAuthError(
                        error.code,
                        f"UPS refused a freshly issued access token for the {call.what} "
                        "(HTTP 401). Check that the UPS application may use this API.",
                        http_status=401,
                        trans_id=error.trans_id,
                    ) from None
            self.tokens.invalidate(token)
            fresh, first = True, None


_shared: UpsClient | None = None
_shared_lock = threading.Lock()


def get_client() -> UpsClient:
    """Return this process's shared client, rebuilt when the UPS settings change."""
    global _shared
    config = UpsConfig.from_settings()
    with _shared_lock:
        if _shared is None or _shared.config != config:
            _shared = UpsClient(config=config)
        return _shared


def ship_from_address() -> Address:
    """Return the ship-from address configured in ``settings.UPS_SHIP_FROM``."""
    origin: dict[str, str] = settings.UPS_SHIP_FROM
    lines = tuple(line.strip() for line in origin.get("address_line", "").split("\n"))
    return Address(
        name=origin.get("name", ""),
        address_lines=tuple(line for line in lines if line),
        city=origin.get("city", ""),
        state=origin.get("state", ""),
        postal_code=origin.get("postal_code", ""),
        country=origin.get("country", "US"),
        phone=origin.get("phone", ""),
        company=origin.get("company", ""),
    )
