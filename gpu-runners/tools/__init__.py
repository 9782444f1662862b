"""Debugging tools for people at a terminal (python -m tools.<tool> with PYTHONPATH=gpu-runners); not shipped in runner images."""
