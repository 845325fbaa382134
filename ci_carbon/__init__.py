"""ci-carbon: the carbon footprint of machine-learning training, where decisions are made."""

try:  # written from the git tag when the package is built or installed (hatch-vcs)
    from ci_carbon._version import __version__ as __version__
except ImportError:  # a source tree never built or installed: pyproject's fallback-version
    __version__ = "0.1.0"
