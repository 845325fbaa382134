"""Readers that turn inputs (a YAML manifest; MLflow runs) into JobSpecs."""
