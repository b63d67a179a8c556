"""The README's Python examples run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_readme_quick_start_and_query_constants_run_in_a_fresh_folder(tmp_path: Path) -> None:
    quick_start, constants = python_blocks()[:2]
    for number, block in enumerate((quick_start, constants)):
        script = tmp_path / f"example{number}.py"
        script.write_text(block, encoding="utf-8")
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "agents.db").exists()
