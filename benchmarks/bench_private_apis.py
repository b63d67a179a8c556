"""The models' private paths into json and pydantic beside the public paths they replace.

    python benchmarks/bench_private_apis.py            # the full run
    python benchmarks/bench_private_apis.py --quick    # a smaller run, for a smoke test

Each pair does the same work in the same process, one after the other, on the same values; a
figure is the best of ``--repeat`` runs, in microseconds per call.
``tests/test_models_private_apis.py`` proves each pair gives the same result. The cases:

* **encode**: a session log's content and metadata (small JSON objects), as every append encodes
  them: ``json.encoder.c_make_encoder`` called directly vs ``JSONEncoder.encode``.
* **decode**: the same JSON text read back, as every row read decodes it: ``scan_once`` vs
  ``json.loads``.
* **copy**: a stored message with its database id, as ``MessageRepository.append`` returns it:
  filling pydantic's instance layout vs ``model_copy(update=...)``.
* **derived hash**: a new message whose content hash the model derives: writing it into the
  instance ``__dict__`` while the model is built vs building the model a second time with the
  hash passed in (the public way to set a field of a frozen model).
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pydantic

from agentsdb.models import Message, MessageRole
from agentsdb.models._json import decode_json, decode_json_public, encode_json, encode_json_public
from agentsdb.models._pydantic import copy_with

CONTENT = {"text": "The tool returned 3 results.", "tokens": 412, "tool": {"name": "search"}}
METADATA = {"model": "gpt-x", "latency_ms": 812.5, "tags": ["a", "b"]}
MOMENT = datetime(2024, 1, 1, tzinfo=UTC)


def best_us(call: Callable[[], object], n: int, repeat: int) -> float:
    """The best of ``repeat`` runs of ``n`` calls, in microseconds per call."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            call()
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def derived(content: str) -> Message:
    return Message(conversation_id="c", role=MessageRole.USER, content=content, created_at=MOMENT)


def passed_in(content: str) -> Message:
    first = derived(content)
    return Message(
        conversation_id="c",
        role=MessageRole.USER,
        content=content,
        created_at=MOMENT,
        content_hash=first.content_hash,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = 2_000 if args.quick else 50_000
    print(f"Python {platform.python_version()}, pydantic {pydantic.VERSION}; best of {args.repeat}")
    print(f"{'case':<14} {'private path':>13} {'public path':>12} {'ratio':>7}")
    texts = [encode_json_public(CONTENT), encode_json_public(METADATA)]
    message = derived("hello")
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        (
            "encode",
            lambda: (encode_json(CONTENT), encode_json(METADATA)),
            lambda: (encode_json_public(CONTENT), encode_json_public(METADATA)),
        ),
        (
            "decode",
            lambda: (decode_json(texts[0]), decode_json(texts[1])),
            lambda: (decode_json_public(texts[0]), decode_json_public(texts[1])),
        ),
        ("copy", lambda: copy_with(message, id=7), lambda: message.model_copy(update={"id": 7})),
        ("derived hash", lambda: derived("hello"), lambda: passed_in("hello")),
    ]
    for name, private, public in cases:
        fast = best_us(private, n, args.repeat)
        slow = best_us(public, n, args.repeat)
        print(f"{name:<14} {fast:>10.2f} us {slow:>9.2f} us {slow / fast:>6.2f}x")


if __name__ == "__main__":
    main()
