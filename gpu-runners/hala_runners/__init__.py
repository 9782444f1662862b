"""Hala Flow GPU runners: Python Temporal workers, one per task queue, and the stage runners they wrap."""
