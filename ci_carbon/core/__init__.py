"""The shared core: the job model, the factor tables and the estimate."""
