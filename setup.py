"""Build hook: ship the study's model files and the bundled survey inside the package.

The repository keeps them at the top level (``models/*.lav``, the seed studies'
``models/<study>/*.lav``, ``sample_data/*.csv``), where the README, the docs and the tests read
them by path. A built wheel also needs them inside ``semnet/`` so that ``semnet
replicate`` works from any folder after a plain ``pip install``; this hook copies them
into the build at build time, so the repository holds each file once. Everything else
about the package is declared in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: (folder in the repository, file pattern, folder inside the built package); a file's
#: subfolder under the repository folder is kept
BUNDLED = (
    ("models", "*.lav", "semnet/studies/models"),
    ("models", "*/*.lav", "semnet/studies/models"),
    ("sample_data", "*.csv", "semnet/datasets"),
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
            for src in sources:
                target = Path(self.build_lib, dest, src.relative_to(ROOT / folder))
                self.mkpath(str(target.parent))
                self.copy_file(str(src), str(target))


setup(cmdclass={"build_py": BuildPyWithData})
