"""eurasec: the Eurasian security discourse as data.

Importing this package is light: the contributor tooling (frictionless, click) is
imported only by the commands that need it.
"""

__version__ = "1.0.0"
