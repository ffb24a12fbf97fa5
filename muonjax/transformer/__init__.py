"""Transformers (SPEC Part C): in-context recall (Kim et al.) and long-tailed facts
(Li et al.), with Muon on hidden matrices and AdamW on the rest (SPEC C.3)."""

__all__: list[str] = []

# --- issue 15: LLaMA-style pre-training on long-tailed facts (SPEC C.2) -----------
from muonjax.transformer.checkpoint import (
    load_checkpoint,
    read_checkpoint_meta,
    save_checkpoint,
)
from muonjax.transformer.facts import (
    SEP,
    Corpus,
    FactsSpec,
    Probes,
    frequency_buckets,
    make_corpus,
    probe_prompts,
    sample_batch,
    sample_sequence,
)
from muonjax.transformer.llama import (
    HIDDEN,
    LlamaConfig,
    batch_loss,
    causal_attention,
    flops_per_token,
    forward,
    init_llama,
    rms_norm,
    rotary,
    sequence_loss,
    swiglu,
)

__all__ += [
    "HIDDEN",
    "SEP",
    "Corpus",
    "FactsSpec",
    "LlamaConfig",
    "Probes",
    "batch_loss",
    "causal_attention",
    "flops_per_token",
    "forward",
    "frequency_buckets",
    "init_llama",
    "load_checkpoint",
    "make_corpus",
    "probe_prompts",
    "read_checkpoint_meta",
    "rms_norm",
    "rotary",
    "sample_batch",
    "sample_sequence",
    "save_checkpoint",
    "sequence_loss",
    "swiglu",
]
