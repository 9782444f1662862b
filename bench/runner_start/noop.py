"""python -m noop: does nothing; bench/runner-start.py forks it to learn that the server finished its preload."""
