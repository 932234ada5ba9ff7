"""``python -m vitalproc``: the command line (``vitalproc.cli``)."""

from .cli import main

raise SystemExit(main())
