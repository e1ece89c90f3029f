"""The public API is what ``segmap.__all__`` says, each name documented, every deliberate error a SegmapError."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import segmap
from segmap.errors import SegmapError


def all_modules():
    for info in pkgutil.walk_packages(segmap.__path__, "segmap."):
        if not info.name.endswith("__main__"):  # running it would run the command line
            yield importlib.import_module(info.name)


def test_every_public_name_resolves_and_is_documented():
    doc = segmap.__doc__ or ""
    for name in segmap.__all__:
        value = getattr(segmap, name)
        if name != "__version__":
            assert inspect.getdoc(value), f"segmap.{name} has no docstring"
        assert name in doc, f"segmap.{name} is not described in the package docstring"


def test_the_errors_a_caller_catches_are_public():
    for name in ("SegmapError", "MappingError", "MappingRuntimeError", "Diagnostic"):
        assert name in segmap.__all__
    assert issubclass(segmap.MappingError, SegmapError) and issubclass(segmap.MappingRuntimeError, SegmapError)


def test_every_public_exception_class_is_a_segmap_error():
    not_segmap = []
    for module in all_modules():
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__
                    and not name.startswith("_")):
                if not issubclass(obj, SegmapError):
                    not_segmap.append(f"{module.__name__}.{name}")
    assert not not_segmap, f"exceptions segmap raises on purpose must derive from SegmapError: {not_segmap}"


def test_the_package_ships_its_type_information():
    from importlib import resources

    assert resources.files("segmap").joinpath("py.typed").is_file()
