"""`build`: validate, then write a release folder atomically. See `release.build_release`."""

from .release import BuildError, BuildResult, build_release

__all__ = ["BuildError", "BuildResult", "build_release"]
