"""The package version, in a leaf module that imports nothing, so any stage can read it."""
__version__ = "0.1.0"
