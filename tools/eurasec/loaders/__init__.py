"""The loaders: a release's tables for Python users. Imports only the standard library, pandas and pyarrow."""
