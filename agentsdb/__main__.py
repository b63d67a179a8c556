"""``python -m agentsdb``: the same commands as the ``agentsdb`` console script."""

from agentsdb.cli import main

raise SystemExit(main())
