"""The experiments: one thin script per figure, installed as ``muonjax.experiments``.

Each module defines a frozen-dataclass config with ``quick`` and ``paper`` presets,
a ``run`` that calls into the library, a ``plot``, and registers them with
:func:`muonjax.register_experiment`. ``muonjax list`` shows them; ``muonjax run
NAME`` or ``python experiments/NAME.py`` runs one.
"""
