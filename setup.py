"""Package discovery that pyproject.toml cannot express on its own.

Everything else lives in pyproject.toml. The packages are every package under
``muonjax/`` (found automatically, so new subpackages need no edit here) plus the
top-level ``experiments/`` directory, one thin script per figure, installed as the
subpackage ``muonjax.experiments``: ``muonjax run NAME`` then finds the scripts from
a regular and from an editable install alike. (In pyproject.toml, ``packages.find``
cannot be combined with a ``package-dir`` entry for a package outside its search
root, and an explicit ``packages`` list would have to name every subpackage.)
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["muonjax", "muonjax.*"]), "muonjax.experiments"],
    package_dir={"muonjax.experiments": "experiments"},
)
