"""Hala Flow GPU runners: Python Temporal workers, one per task queue, and the stage runners they wrap."""

# Part of every stage key: bump when a runner's output for the same input would change.
RUNNER_VERSION = "0.1.0"
