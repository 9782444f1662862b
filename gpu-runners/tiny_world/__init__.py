"""The tiny world: tiny real models and synthetic data in real formats, for tests and demos.

Fixture code, kept outside the hala_runners package on purpose: no worker or runner imports it.

lexicon / language / grammar / facts / prompts   the synthetic language pair and its world
tokenizer / models / embeddings / train           reusable builders (other runners' tests import them)
pretrain / teacher                                what the build trains
opus / instructions / benchmarks                  dataset writers in the real column layouts
build                                             `python -m tiny_world.build --out DIR`
"""
