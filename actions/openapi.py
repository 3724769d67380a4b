"""An OpenAPI 3.1 description of the API, generated from the registry (served at ``GET /openapi.json``).

AnkiConnect has one endpoint, ``POST /``, whose body names the action. So the document has one operation
whose request body is a ``oneOf`` of one schema per action, told apart by ``action`` (a discriminator);
each action's ``params`` schema is read from its handler's annotations, the same ones the dispatcher
checks params against, so the document cannot drift from what the server accepts.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from typing import Any

from .params import INT_MAX, INT_MIN
from .registry import Action

__all__ = ["openapi_document", "param_schema", "request_schema"]

TITLE = "AnkiConnect Live"
DOC_VERSION = "0.1.0"

_SIMPLE: dict[Any, dict[str, Any]] = {
    int: {"type": "integer", "format": "int64", "minimum": INT_MIN, "maximum": INT_MAX},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
}


def param_schema(annotation: Any) -> dict[str, Any]:
    """The JSON Schema of one param annotation (see ``params.converter_for`` for the same cases)."""
    if annotation is Any or annotation is object:
        return {}
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [param_schema(a) for a in typing.get_args(annotation) if a is not type(None)]
        schema = members[0] if len(members) == 1 else {"anyOf": members}
        if type(None) in typing.get_args(annotation):
            return _nullable(schema)
        return schema
    if origin is list:
        args = typing.get_args(annotation)
        return {"type": "array", "items": param_schema(args[0])} if args else {"type": "array"}
    if origin is dict:
        args = typing.get_args(annotation)
        return {"type": "object", "additionalProperties": param_schema(args[1])} if args else {"type": "object"}
    simple = _SIMPLE.get(annotation)
    if simple is None:
        raise TypeError(f"no JSON Schema for param annotation {annotation!r}")
    return dict(simple)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if set(schema) == {"type"} and isinstance(schema["type"], str):
        return {"type": [schema["type"], "null"]}
    if not schema:
        return schema  # anything already includes null
    return {"anyOf": [schema, {"type": "null"}]}


def request_schema(action: Action) -> dict[str, Any]:
    """The request object of one action: ``action``, ``version``, ``key`` and its ``params``."""
    properties: dict[str, Any] = {}
    for name, spec in action.params.items():
        param = param_schema(spec.annotation)
        if not spec.required and _is_json(spec.default):
            param["default"] = spec.default
        properties[name] = param
    params: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if action.required:
        params["required"] = list(action.required)
    version: dict[str, Any] = {"type": "integer", "default": 4, "description": "6 for the two-key reply envelope"}
    if action.versions is not None:
        version["minimum"], version["maximum"] = action.versions
    schema: dict[str, Any] = {
        "type": "object",
        "title": action.name,
        "description": action.summary,
        "properties": {
            "action": {"const": action.name},
            "version": version,
            "key": {"type": ["string", "null"], "description": "the API key, when apiKey is set"},
            "params": params,
        },
        "required": ["action", "params"] if action.required else ["action"],
        "x-domain": action.domain,
    }
    if action.gui:
        schema["x-gui-only"] = True  # answers `unsupported action` without Anki's window
    return schema


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def openapi_document(actions: Mapping[str, Action], *, api_version: int = 6) -> dict[str, Any]:
    """The whole document: ``POST /`` with every action, ``GET /`` (banner), ``/events`` and itself."""
    schemas: dict[str, Any] = {f"request.{name}": request_schema(action) for name, action in actions.items()}
    refs = {name: f"#/components/schemas/request.{name}" for name in actions}
    schemas["Reply"] = {
        "description": "Version 6 and later; with version 4 or less a success is the bare result.",
        "type": "object",
        "properties": {"result": {}, "error": {"type": ["string", "null"]}},
        "required": ["result", "error"],
    }
    json_reply: dict[str, Any] = {"application/json": {"schema": {}}}
    refused = {"description": "origin or host not allowed", "content": {"application/json": {"schema": _REPLY}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": DOC_VERSION,
            "description": (
                f"The AnkiConnect API (version {api_version}). Every action is a POST of a JSON object to `/`; "
                "errors are replies with status 200 and a non-null `error`."
            ),
        },
        "paths": {
            "/": {
                "post": {
                    "operationId": "runAction",
                    "summary": "Run one action",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [{"$ref": ref} for ref in refs.values()],
                                    "discriminator": {"propertyName": "action", "mapping": refs},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {"description": "the reply (an error too)", "content": json_reply},
                        "403": refused,
                        "413": {"description": "request body larger than webMaxBodyBytes"},
                    },
                },
                "get": {
                    "operationId": "banner",
                    "summary": "The API banner",
                    "responses": {
                        "200": {
                            "description": "the banner",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "properties": {"apiVersion": {"type": "string"}}}
                                }
                            },
                        },
                        "403": refused,
                    },
                },
            },
            "/events": {
                "get": {
                    "operationId": "events",
                    "summary": "Server-Sent Events (a stream that does not end)",
                    "parameters": [
                        {"name": "events", "in": "query", "schema": {"type": "string"}},
                        {"name": "since", "in": "query", "schema": {"type": "integer"}},
                        {"name": "key", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {"description": "the event stream", "content": {"text/event-stream": {"schema": {}}}},
                        "400": {"description": "unknown event or bad since"},
                        "403": refused,
                        "429": {"description": "too many wrong API keys from this address"},
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": json_reply}, "403": refused},
                }
            },
        },
        "components": {"schemas": schemas},
    }


_REPLY = {"$ref": "#/components/schemas/Reply"}
