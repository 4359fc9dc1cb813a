"""`python -m eurasec`: the same as the `eurasec` command."""

from ._entry import main

main()
