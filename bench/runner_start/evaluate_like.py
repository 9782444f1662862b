"""python -m evaluate_like --model DIR: a runner that starts as runners/evaluate.py does, for bench/runner-start.py.

It imports what runners/evaluate.py imports at module level (by importing that module), then what
its run imports (torch, transformers' AutoModelForCausalLM and AutoTokenizer), loads the model and
tokenizer from DIR and emits one progress event carrying the CPU seconds this process used so far
(a forked process's count starts at the fork) and its memory (RSS, and the pages it alone holds:
a forked one shares the server's until it writes to them), then exits.
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
    memory = dict(line.split(":") for line in open("/proc/self/smaps_rollup").read().splitlines()[1:])
    kib = {name: int(value.split()[0]) for name, value in memory.items()}
    progress.emit_progress("loaded", 1, 1, cpu_s=usage.ru_utime + usage.ru_stime,
                           rss_mib=kib["Rss"] / 1024, own_mib=(kib["Private_Clean"] + kib["Private_Dirty"]) / 1024,
                           params=sum(p.numel() for p in model.parameters()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
