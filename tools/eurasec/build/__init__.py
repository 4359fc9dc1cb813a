"""`build`: validate, then write a release folder atomically. See `release.build_release`."""

from .release import BuildError, BuildInterrupted, BuildResult, SwapError, build_release

__all__ = ["BuildError", "BuildInterrupted", "BuildResult", "SwapError", "build_release"]
