"""Build hook: ship the study's model files and the bundled survey inside the package.

The repository keeps them at the top level (``models/*.lav``,
``sample_data/network_involvement.csv``), where the README, the docs and the tests read
them by path. A built wheel also needs them inside ``semnet/`` so that ``semnet
replicate`` works from any folder after a plain ``pip install``; this hook copies them
into the build at build time, so the repository holds each file once. Everything else
about the package is declared in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: (folder in the repository, file pattern, folder inside the built package)
BUNDLED = (
    ("models", "*.lav", "semnet/studies/models"),
    ("sample_data", "network_involvement.csv", "semnet/datasets"),
)


class BuildPyWithData(build_py):
    """``build_py`` that also copies :data:`BUNDLED` into the build folder."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the files where they are
        for folder, pattern, dest in BUNDLED:
            sources = sorted((ROOT / folder).glob(pattern))
            if not sources:
                raise FileNotFoundError(f"no {folder}/{pattern} to bundle in {ROOT}")
            target = Path(self.build_lib, dest)
            self.mkpath(str(target))
            for src in sources:
                self.copy_file(str(src), str(target / src.name))


setup(cmdclass={"build_py": BuildPyWithData})
