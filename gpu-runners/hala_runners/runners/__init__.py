"""Stage runners: one module per stage, each a small CLI that an activity runs in its own process group.

Which activity runs which module is the contract's `runner` field (hala_runners.contract.runner).
Each stage module follows the runner convention and is built on its harness, hala_runners.runner_harness;
preemption.py is a helper for runners that checkpoint on SIGTERM (train).
"""
