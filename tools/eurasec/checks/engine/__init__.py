"""The fast engine: frictionless' own data checks, column-wise, with frictionless as the reference."""
