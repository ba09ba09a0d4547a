"""What each run size means, in one table: ``smoke`` for CI, ``cpu`` for a laptop, ``gpu`` for one
CUDA card, ``paper`` (``MINIMASS_PRESET`` picks one). The shapes follow Sec. 4.1; the paper's own
model (6+6 layers, 1024/4096) suits News Crawl, not the ~3M tokens of the offline Bible text.

======  ==============  ======  ======  ==========  ======  =======================================
preset  layers, d / ff  params  batch   pre-train   epochs  pre-training time
                                tokens  steps
======  ==============  ======  ======  ==========  ======  =======================================
smoke   2+2, 64 / 256   0.3M    1,000   60          0.19    seconds (CPU)
cpu     3+3, 256/1024   7.7M    2,000   5,000       3.4     56 min at one CPU thread (measured)
gpu     6+6, 512/2048   52.6M   24,000  2,500       21      3.1 min on one H200 (2,500 x 74 ms)
paper   6+6, 1024/4096  238.4M  24,000  100,000     ~7      not run: online corpora, many GPU-hours
======  ==============  ======  ======  ==========  ======  =======================================

Parameters: ``build_model(preset, vocab_size=...)`` at each vocabulary size. Epochs: steps x batch
tokens over the training text of ``data.unsupervised("en", "fr")`` in that vocabulary (0.32M,
2.95M and 2.79M tokens). The cpu time is notebook 05's checkpoint; the gpu time is 2,500 of the
74.4 ms steps that ``make gpu-check`` measured for this model on an H200 (``bench/gpu.json``,
2026-12-04). The gpu batch is the paper's 8 x 3,000 tokens.
``paper``: Sec. 4.1's model, BPE and batch for ``MINIMASS_CORPORA=paper`` (``data.corpora``), on
the first 5M News Crawl sentences per language; its steps (not in the paper) and epochs are ours.
"""

# model: ModelConfig fields; train: TrainConfig fields; data: BPE size, sentences per language
# (None: all) and validation examples; pretrain_steps: the shared checkpoints' (recipes.pretrained).
PRESETS: dict[str, dict] = {
    "smoke": {
        "model": dict(d_model=64, n_heads=4, d_ff=256, n_enc_layers=2, n_dec_layers=2,
                      max_positions=256),
        "train": dict(lr=1e-3, warmup=20, max_steps=60, max_tokens=1000, log_every=10,
                      eval_every=30, save_every=30),
        "data": dict(vocab=1000, sentences=3000, valid=100),
        "pretrain_steps": 60},
    "cpu": {
        "model": dict(d_model=256, n_heads=4, d_ff=1024, n_enc_layers=3, n_dec_layers=3),
        "train": dict(lr=5e-4, warmup=200, max_steps=1000, max_tokens=2000, eval_every=250,
                      save_every=250),
        "data": dict(vocab=8000, sentences=None, valid=300),
        "pretrain_steps": 5000},
    "gpu": {
        "model": dict(d_model=512, n_heads=8, d_ff=2048, n_enc_layers=6, n_dec_layers=6),
        "train": dict(lr=5e-4, warmup=250, max_steps=2500, max_tokens=24000, eval_every=250,
                      save_every=250),
        "data": dict(vocab=16000, sentences=None, valid=1000),
        "pretrain_steps": 2500},
    "paper": {  # Sec. 4.1's model, BPE and batch, for MINIMASS_CORPORA=paper; the steps are ours
        "model": dict(d_model=1024, n_heads=8, d_ff=4096, n_enc_layers=6, n_dec_layers=6),
        "train": dict(lr=1e-4, warmup=4000, max_steps=100000, max_tokens=24000, eval_every=5000,
                      save_every=5000),
        "data": dict(vocab=60000, sentences=5_000_000, valid=3000),
        "pretrain_steps": 100000}}
