"""The sandbox's control API under ``/__sandbox/``: ledger, faults, reset, request log.

| method and path | does |
| --- | --- |
| ``GET /__sandbox/health`` | ``{"status": "ok"}`` |
| ``GET /__sandbox/ledger?reference=&tracking_number=&shipment_id=`` | shipments created |
| ``GET /__sandbox/faults`` | active faults |
| ``POST /__sandbox/faults`` | add a fault (an object, a list, or ``{"faults": [...]}``) |
| ``DELETE /__sandbox/faults`` / ``DELETE /__sandbox/faults/{id}`` | remove faults |
| ``POST /__sandbox/reset`` | forget shipments, faults, tokens and calls |
| ``GET /__sandbox/requests?endpoint=`` | the last calls (trace headers, never tokens) |
| ``GET /__sandbox/stats`` | calls per endpoint, shipments, voided shipments |
| ``GET, POST /__sandbox/config`` | read or set ``token_ttl`` (seconds) |
| ``POST /__sandbox/tokens/revoke`` | expire every token issued so far |
"""

from __future__ import annotations

from typing import Any

from ups.sandbox.exchange import Reply, SandboxRequest
from ups.sandbox.faults import Fault
from ups.sandbox.state import SandboxState

CONTROL_PREFIX = "/__sandbox"


def _fault_items(data: Any) -> list[Any]:
    if isinstance(data, dict) and "faults" in data:
        data = data["faults"]
    return data if isinstance(data, list) else [data]


def _post_faults(state: SandboxState, request: SandboxRequest) -> Reply:
    faults = [Fault.from_dict(item) for item in _fault_items(request.json())]
    added = [state.faults.add(fault).as_dict() for fault in faults]
    return Reply.json(201, {"faults": added})


def _ledger(state: SandboxState, request: SandboxRequest) -> Reply:
    query = request.query
    entries = state.ledger.find(
        reference=query.get("reference"),
        tracking_number=query.get("tracking_number"),
        shipment_id=query.get("shipment_id"),
    )
    return Reply.json(200, {"shipments": [entry.as_dict() for entry in entries]})


def _stats(state: SandboxState) -> Reply:
    entries = state.ledger.find()
    return Reply.json(
        200,
        {
            "calls": state.log.counts(),
            "shipments": len(entries),
            "voided": sum(entry.voided for entry in entries),
            "faults": len(state.faults.as_list()),
        },
    )


def _config(state: SandboxState, request: SandboxRequest) -> Reply:
    if request.method == "POST":
        data = request.json()
        if not isinstance(data, dict):
            raise ValueError('Send a JSON object such as {"token_ttl": 60}.')
        ttl = data.get("token_ttl", state.token_ttl)
        if not isinstance(ttl, int) or ttl < 1:
            raise ValueError("token_ttl is a whole number of seconds, at least 1.")
        state.token_ttl = ttl
    return Reply.json(200, {"token_ttl": state.token_ttl})


def _dispatch(state: SandboxState, request: SandboxRequest, path: str) -> Reply | None:
    method = request.method
    if (method, path) == ("GET", "health"):
        return Reply.json(200, {"status": "ok"})
    if (method, path) == ("GET", "ledger"):
        return _ledger(state, request)
    if (method, path) == ("GET", "faults"):
        return Reply.json(200, {"faults": state.faults.as_list()})
    if (method, path) == ("POST", "faults"):
        return _post_faults(state, request)
    if (method, path) == ("DELETE", "faults"):
        state.faults.clear()
        return Reply.json(200, {"faults": []})
    if method == "DELETE" and path.startswith("faults/"):
        removed = state.faults.remove(int(path.removeprefix("faults/")))
        return Reply.json(200 if removed else 404, {"removed": removed})
    if (method, path) == ("POST", "reset"):
        state.reset()
        return Reply.json(200, {"reset": True})
    if (method, path) == ("GET", "requests"):
        return Reply.json(200, {"requests": state.log.items(request.query.get("endpoint"))})
    if (method, path) == ("GET", "stats"):
        return _stats(state)
    if method in ("GET", "POST") and path == "config":
        return _config(state, request)
    if (method, path) == ("POST", "tokens/revoke"):
        state.tokens.revoke()
        return Reply.json(200, {"revoked": True})
    return None


def handle_control(state: SandboxState, request: SandboxRequest) -> Reply:
    """Answer one control call; mistakes get a 400 that says what is wrong."""
    path = request.path.removeprefix(CONTROL_PREFIX).strip("/")
    try:
        reply = _dispatch(state, request, path)
    except ValueError as exc:  # bad JSON, a bad fault, a bad id
        return Reply.json(400, {"error": str(exc) or type(exc).__name__})
    if reply is None:
        return Reply.json(404, {"error": f"No control endpoint {request.method} {request.path}."})
    return reply
