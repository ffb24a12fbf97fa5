"""``python -m muonjax``: the ``muonjax`` command."""

from muonjax.cli import main

raise SystemExit(main())
