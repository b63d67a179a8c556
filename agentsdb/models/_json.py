"""JSON columns: compact JSON text written, JSON text (or a driver's decoded value) read back.

The hot paths call the C encoder and scanner behind :func:`json.dumps` / :func:`json.loads`
directly (private APIs of :mod:`json`): each is taken in one function here
(:func:`_c_encoder`, :func:`_c_scanner`), and ``tests/test_models_private_apis.py`` compares
them with the public path on the same values, so a Python that changes them fails CI, not
production. ``benchmarks/bench_private_apis.py`` prints both paths' speed side by side.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from json import encoder as json_encoder
from typing import Any

# The public path: one encoder and one decoder built once (json.dumps with options builds a new
# encoder on every call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_DECODER = json.JSONDecoder()


def _not_json(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _c_encoder() -> Callable[[object, int], Iterable[str]] | None:
    """json's C encoder (``json.encoder.c_make_encoder``, private) configured as ``_ENCODER``
    is, or None on a Python without it.

    Half the cost of ``_ENCODER.encode`` per call. No circular-reference check: models only
    hold validated JSON values.
    """
    make: Callable[..., Callable[[object, int], Iterable[str]]] | None = getattr(
        json_encoder, "c_make_encoder", None
    )
    if make is None:
        return None
    # (markers, default, encoder, indent, key_separator, item_separator, sort_keys, skipkeys,
    # allow_nan): the positional signature of CPython's _json.make_encoder.
    return make(
        None, _not_json, json_encoder.encode_basestring, None, ":", ",", False, False, False
    )


def _c_scanner() -> Callable[[str, int], tuple[Any, int]]:
    """The scanner behind ``json.loads`` (``JSONDecoder.scan_once``, undocumented): parses
    one value at an index. ``json.loads`` first checks its argument and strips white space
    with a regular expression, half the cost of parsing a small document."""
    scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]  # typeshed omits it
    return scan


_C_ENCODER = _c_encoder()
_SCAN = _c_scanner()


def encode_json_public(value: object) -> str:
    """Compact JSON text through the public ``JSONEncoder.encode``: the oracle of
    :func:`encode_json`."""
    return _ENCODER.encode(value)


def encode_json(value: object) -> str:
    """Compact JSON text, as stored in JSON columns (the same text as
    :func:`encode_json_public`)."""
    if _C_ENCODER is None or isinstance(value, str | int | float):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def decode_json_public(value: str | bytes | bytearray) -> Any:
    """JSON text parsed by the public ``json.loads``: the oracle of :func:`decode_json`."""
    return json.loads(value)


def decode_json(value: object, decoded: bool = False) -> Any:
    """A JSON column's value: JSON text is parsed; a value a driver already decoded is kept.

    ``decoded`` says the driver decodes JSON columns itself (PostgreSQL's JSONB): a ``str`` is
    then a JSON string, not JSON text, and is kept as it is. Text gives what ``json.loads``
    gives, errors included.
    """
    if decoded:
        return value
    if isinstance(value, str):
        if value == "{}":
            return {}
        try:
            parsed, end = _SCAN(value, 0)
        except StopIteration:  # not a JSON value where it starts (white space, or bad text)
            return json.loads(value)
        # Anything after the value (white space, or text json.loads refuses) gets its verdict.
        return parsed if end == len(value) else json.loads(value)
    if isinstance(value, bytes | bytearray):
        return json.loads(value)
    return value


__all__ = ["decode_json", "decode_json_public", "encode_json", "encode_json_public"]
