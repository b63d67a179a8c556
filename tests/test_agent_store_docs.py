"""The example in docs/agent-store.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "agent-store.md"


def test_the_agent_store_page_example_runs() -> None:
    [example] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    exec(compile(example, str(DOC), "exec"), {})
