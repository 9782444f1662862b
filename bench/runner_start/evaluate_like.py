"""python -m evaluate_like --model DIR: a runner that starts as runners/evaluate.py does, for bench/runner-start.py.

It imports what runners/evaluate.py imports at module level (by importing that module), then what
its run imports (torch, transformers' AutoModelForCausalLM and AutoTokenizer), loads the model and
tokenizer from DIR and emits one progress event carrying the CPU seconds this process used so far
(a forked process's count starts at the fork), then exits.
"""
import argparse
import importlib
import resource
import sys

from hala_runners import progress

importlib.import_module("hala_runners.runners.evaluate")  # what it imports at module level is the point


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    AutoTokenizer.from_pretrained(args.model)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    progress.emit_progress("loaded", 1, 1, cpu_s=usage.ru_utime + usage.ru_stime,
                           params=sum(p.numel() for p in model.parameters()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
