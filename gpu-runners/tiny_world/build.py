"""Build the tiny world: a hub mirror of tiny real models and synthetic data in the real formats.

    PYTHONPATH=gpu-runners $(bash scripts/python-env.sh)/bin/python -m tiny_world.build --out DIR
    TINY_WORLD_LANG=fr ... -m tiny_world.build --out DIR   # the second world (profiles/fr.py)
    bash scripts/fixtures.sh --rebuild  # both into fixtures/tiny-world/hub, the copy the repository ships

Point HALA_HUB_MIRROR at DIR and the campaign's hf:// ids resolve into it (hala_runners.hub):

    hala-tiny/lfm2-350m, lfm2-700m, lfm2-1.2b   Lfm2ForCausalLM bases, briefly pretrained (no translation)
    hala-tiny/command-a-translate              Cohere2ForCausalLM teacher (BF16), trained to translate
    datasets/hala-tiny/opus-100/en-ar/{train,validation,test}-00000-of-00001.parquet + ../NOISE.json
    datasets/hala-tiny/OpenOrca/1M-GPT4-Augmented.parquet
    datasets/hala-tiny/OpenOrca-instructions/train.parquet, datasets/hala-tiny/hermes-3/train.parquet
    datasets/hala-tiny/oall/<benchmark>/test.parquet (alghafa, arabic_mmlu, exams, madinah_qa,
                                                       aratrust, arbmmlu_ht)
    MANIFEST.json                              every entry with rows / parameters, measured chrF++, and
                                               the digest of the generator that built it
    hala-tiny-fr/..., datasets/hala-tiny-fr/...  the French world (TINY_WORLD_LANG=fr): teacher, lfm2-1.2b,
                                               lfm2-350m, opus-100/en-fr, the instruction sets,
                                               mmlu/mmlu/test.parquet; MANIFEST.fr.json

The language is English-like text and the profile's target language (profiles/, language.py); the whole
build is deterministic for a seed and takes about 3-4 minutes on 2 CPU cores (teacher training on
one core, data and the bases on the other). It writes into DIR.partial
and renames it to DIR at the end, so a half-built mirror is never mistaken for a finished one.

Its training rounds differently on another processor unless the CPU kernels are pinned
(gpu-runners/cpu-kernels.env), so the repository ships one build (fixtures/tiny-world/) and set-up
checks its digest rather than building a machine's own.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from hala_runners import cpu_kernels

from .profiles import PROFILE

ORG = PROFILE.ORG
TEACHER = "command-a-translate"
LFM2_NAMES = PROFILE.MODELS
TRANSLATOR_BASE = "lfm2-1.2b"


def generator_digest(code: str | None = None) -> str:
    """sha256 of the source a world is built from (file names and bytes, in name order): the shared
    modules, profiles/__init__.py and the world's own profile, not the other profiles, so a new or
    changed profile leaves the other worlds built. A test holds each shipped manifest to it, so a
    changed generator cannot go unbuilt."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in ("__init__.py", f"{code or PROFILE.CODE}.py"):
        digest.update(f"profiles/{name}".encode() + b"\0" + (here / "profiles" / name).read_bytes() + b"\0")
    return digest.hexdigest()


def log(message: str) -> None:
    print(f"tiny-world: {message}", file=sys.stderr, flush=True)


def _deterministic(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    # One thread per process: the same reduction order on every machine, and no OpenMP spin-waits
    # when the cores are shared (two threads on a busy 2-core box ran 10x slower than one).
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True, warn_only=True)


def build_data_and_bases(out: str, seed: int, tokenizer, steps: int | None = None) -> dict:
    """Datasets, then the three LFM2 bases (lexicon-aligned embeddings, brief monolingual
    pretraining) and the translator base's untrained chrF++. Runs in a child process beside the
    teacher's training, one core each; returns the manifest entries."""
    from . import benchmarks, instructions, models, opus, pretrain, teacher
    from .embeddings import align_embeddings
    from .grammar import World
    from .language import translate

    _deterministic(seed)
    started = time.time()
    data = f"datasets/{ORG}"  # manifest keys are mirror paths: hf://<key> resolves to each file
    datasets = {f"{data}/opus-100/en-{PROFILE.CODE}/{split}-00000-of-00001.parquet": {"rows": rows}
                for split, rows in opus.write_opus(Path(out) / data / "opus-100", seed).items()}
    datasets[f"{data}/opus-100/NOISE.json"] = {"describes": "injected train noise, per kind"}
    for rel, rows in instructions.write_instructions(Path(out) / data, seed).items():
        datasets[f"{data}/{rel}"] = {"rows": rows}
    bench = PROFILE.BENCHMARK_DIR
    for name, rows in benchmarks.write_benchmarks(Path(out) / data / bench, seed).items():
        datasets[f"{data}/{bench}/{name}/test.parquet"] = {"rows": rows}
    log(f"datasets written ({time.time() - started:.0f}s)")

    entries = {}
    for size, name in LFM2_NAMES.items():
        model = models.tiny_lfm2(tokenizer, size, seed)
        align_embeddings(model, tokenizer, seed)
        loss = pretrain.pretrain(model, tokenizer, seed, **({"steps": steps} if steps else {}), name=name)
        models.save_model(model, tokenizer, Path(out) / ORG / name)
        if name == TRANSLATOR_BASE:
            translator_base = model
        params = models.parameter_count(model)
        entries[f"{ORG}/{name}"] = {"architecture": "Lfm2ForCausalLM", "size": size, "dtype": "float32",
                                    "parameters": params, "pretrain_loss": round(loss, 3)}
        log(f"{name}: {params:,} parameters, pretrain loss {loss:.3f} ({time.time() - started:.0f}s)")

    # The translator's starting point must not translate yet: record how far it is from it.
    sentences = teacher.held_out(seed, World.make(seed))[:50]
    hyps = teacher.translate_batch(translator_base, tokenizer, sentences, max_new_tokens=48)
    base = entries[f"{ORG}/{TRANSLATOR_BASE}"]
    base["chrf_pp_untrained"] = teacher.chrf_pp(hyps, [translate(t) for t in sentences])
    log(f"{TRANSLATOR_BASE}: untrained chrF++ {base['chrf_pp_untrained']} "
        f"({time.time() - started:.0f}s)")
    return {"models": entries, "datasets": datasets}


def build(out: Path, seed: int = 0, teacher_steps: int | None = None, pretrain_steps: int | None = None) -> dict:
    """Write the whole mirror into `out`; returns the manifest."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from dataclasses import replace

    import torch

    from hala_runners.runner_harness import killed_with_parent

    from . import models, teacher
    from .grammar import World
    from .language import TARGET_NAME, translate
    from .tokenizer import PROMPT_TEMPLATE, build_tokenizer

    started = time.time()
    _deterministic(seed)
    tokenizer = build_tokenizer(seed)
    log(f"tokenizer: {len(tokenizer)} tokens ({time.time() - started:.0f}s)")

    # Data and bases in a second process while this one trains the teacher: two cores, two jobs.
    # The side process dies with this one (a build killed midway left it training on alone).
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=killed_with_parent) \
        if (os.cpu_count() or 1) > 1 else None
    side = pool.submit(build_data_and_bases, str(out), seed, tokenizer, pretrain_steps) if pool else None

    world = World.make(seed)
    model = models.tiny_cohere2(tokenizer, seed)
    cfg = replace(teacher.TEACHER_TRAINING, steps=teacher_steps, seed=seed) if teacher_steps else None
    teacher.train_teacher(model, tokenizer, seed, world, cfg=cfg)
    model = model.to(torch.bfloat16)  # measured as saved: the real teacher is BF16 too
    held_out = teacher.held_out(seed, world)
    score = teacher.chrf_pp(teacher.translate_batch(model, tokenizer, held_out),
                            [translate(t) for t in held_out])
    models.save_model(model, tokenizer, out / ORG / TEACHER)
    log(f"{TEACHER}: chrF++ {score} on {len(held_out)} held-out sentences ({time.time() - started:.0f}s)")

    rest = side.result() if pool else build_data_and_bases(str(out), seed, tokenizer, pretrain_steps)
    if pool:
        pool.shutdown()
    manifest = {
        "seed": seed,
        "models": {f"{ORG}/{TEACHER}": {"architecture": "Cohere2ForCausalLM", "dtype": "bfloat16",
                             "parameters": models.parameter_count(model), "chrf_pp_held_out": score,
                             "held_out_sentences": len(held_out)},
                   **rest["models"]},
        "datasets": rest["datasets"],
        "chrf": "sacrebleu CHRF(word_order=2), i.e. chrF++; held-out = unseen generated sentences",
        "prompt": PROMPT_TEMPLATE.format(target=TARGET_NAME, text="{text}"),
        # No timings: a rebuild with the pinned kernels must reproduce the shipped bytes.
        "generator": generator_digest(),
    }
    (out / PROFILE.MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    log(f"built in {time.time() - started:.0f}s")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="mirror directory to create")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.add_argument("--teacher-steps", type=int, help="override (quick experiments only)")
    parser.add_argument("--pretrain-steps", type=int, help="override (quick experiments only)")
    args = parser.parse_args(argv)
    # The pinned CPU kernels, before torch loads, so that a rebuild on another x86-64 processor has a
    # chance to give the same bytes (gpu-runners/cpu-kernels.env); the spawned side process inherits them.
    cpu_kernels.pin()

    out: Path = args.out.resolve()
    if out.exists() and not args.force:
        sys.exit(f"tiny-world: {out} exists; pass --force to rebuild it")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    manifest = build(partial, args.seed, args.teacher_steps, args.pretrain_steps)
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)  # the commit point
    log(f"mirror ready at {out}")


if __name__ == "__main__":
    main()
