"""skae's version, in a module of its own so that no module imports back up the package to read it."""

__version__ = "0.1.0"
