"""The project's own checks. Each takes a Context and yields findings; none prints or raises on bad data."""
