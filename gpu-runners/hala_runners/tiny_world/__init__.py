"""The tiny world: tiny real models and synthetic data in real formats, for tests and demos.

lexicon / language / grammar / facts / prompts   the synthetic language pair and its world
tokenizer / models / embeddings / train           reusable builders (other runners' tests import them)
pretrain / teacher                                what the build trains
opus / instructions / benchmarks                  dataset writers in the real column layouts
build                                             `python -m hala_runners.tiny_world.build --out DIR`
"""
