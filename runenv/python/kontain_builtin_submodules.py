"""Imports the modules of packages that kontain-python-link built into this
python: CPython's importer of built-in modules looks for top-level ones only."""

import _imp
import sys
from importlib.machinery import BuiltinImporter, ModuleSpec


class BuiltinSubmoduleFinder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if "." in fullname and _imp.is_builtin(fullname):
            return ModuleSpec(fullname, BuiltinImporter, origin="built-in")
        return None


# After BuiltinImporter, before the frozen modules and the files of sys.path.
sys.meta_path.insert(1, BuiltinSubmoduleFinder)
