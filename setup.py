"""Packaging hook: ship ``fixtures/*.json`` inside the package as ``emulator/fixtures/``.

The fixtures live at the top of the source tree (where a contributor looks for them); an
installed wheel finds them next to the code, where ``fixtures_dirs()`` looks.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithFixtures(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install reads <repo>/fixtures directly
        target = Path(self.build_lib) / "emulator" / "fixtures"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted((HERE / "fixtures").glob("*.json")):
            shutil.copy2(source, target / source.name)


setup(cmdclass={"build_py": BuildPyWithFixtures})
