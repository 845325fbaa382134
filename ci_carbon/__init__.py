"""ci-carbon: the carbon footprint of machine-learning training, where decisions are made."""

__version__ = "0.1.0"
