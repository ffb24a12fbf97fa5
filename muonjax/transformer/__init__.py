"""Transformers (SPEC Part C): in-context recall with Muon, AdamW and SGD.

Kim et al. (2026), Figures 7-9: a two-layer attention-only transformer trained on
the bigram-with-triggers task of Bietti et al. (2023), with Muon on hidden matrices
only. Use as ``from muonjax import transformer``.

Data flow: ``data`` (language, sequences) -> ``model`` (attention-only blocks) ->
``metrics`` (loss, in-context accuracy, memory recall) -> ``optim`` (Muon on hidden
matrices, AdamW on the rest, SGD) -> ``train`` (scan loop) -> ``cells`` (one run per
sweep cell) -> ``analysis`` (learning-rate choice, paired comparisons against
``theory``'s claims) -> ``figures`` (Figures 7-9); ``checks`` registers the Part C
checks (loaded by ``muonjax check``).

Li et al. (2026), "LLaMA-style pre-training" (SPEC C.2): ``facts`` (a long-tailed
corpus of facts) -> ``llama`` (a LLaMA-style decoder) -> ``longtail`` (checkpointed
training of an optimizer's learning-rate grid over seeds) -> ``longtail_records``
(the experiment's records) -> ``longtail_analysis`` -> ``figures.longtail``;
``longtail_checks`` registers its checks.
"""

from muonjax.transformer import figures
from muonjax.transformer.analysis import (
    Advantage,
    LrChoice,
    advantage_comparison,
    claim_comparisons,
    final_step,
    grid_means,
    paired_advantage,
    select_lr,
)
from muonjax.transformer.cells import (
    KEY_FIELDS,
    PAPER_SIZES,
    RECALL_DEFAULTS,
    RECALL_LIMITS,
    RECALL_METRICS,
    RecallExperimentConfig,
    lr_grid,
    model_config,
    recall_cell,
    recall_fixed,
    recall_sweep,
    validate_recall_config,
    width_sweep,
)
from muonjax.transformer.data import (
    Batch,
    Language,
    num_id_tokens,
    sample_batch,
    sample_language,
    sample_sequence,
    validate_task,
    zipf_probs,
)
from muonjax.transformer.metrics import (
    LOSS_POSITIONS,
    RECALL_MARK,
    evaluate,
    in_context_metrics,
    memory_recall,
    recall_loss,
    target_margin,
)
from muonjax.transformer.model import (
    ModelConfig,
    Params,
    attention,
    forward,
    forward_flops_per_token,
    hidden_states,
    init_params,
    memory_logits,
    merge,
)
from muonjax.transformer.optim import (
    ADAMW_DEFAULTS,
    ADAMW_LABEL,
    MUON_DEFAULTS,
    MUON_LABEL,
    NON_HIDDEN_PARTS,
    OPTIMIZERS,
    POLAR_MAPS,
    SCALES,
    ScaleByMuonState,
    default_is_hidden,
    hidden_labels,
    make_optimizer,
    muon,
    optimizer_record,
    scale_by_muon,
    scale_by_shape,
    shape_scale,
)
from muonjax.transformer.train import (
    History,
    TrainState,
    init_state,
    make_train_step,
    train,
    validate_schedule,
)

__all__ = [  # noqa: RUF022  (grouped by module, in data-flow order, for merging)
    # data.py: the bigram-with-triggers task (SPEC C.1)
    "Batch",
    "Language",
    "num_id_tokens",
    "sample_batch",
    "sample_language",
    "sample_sequence",
    "validate_task",
    "zipf_probs",
    # model.py: the attention-only two-layer model (SPEC C.1)
    "ModelConfig",
    "Params",
    "attention",
    "forward",
    "forward_flops_per_token",
    "hidden_states",
    "init_params",
    "memory_logits",
    "merge",
    # metrics.py: loss, in-context accuracy, memory recall (SPEC C.1)
    "LOSS_POSITIONS",
    "RECALL_MARK",
    "evaluate",
    "in_context_metrics",
    "memory_recall",
    "recall_loss",
    "target_margin",
    # optim.py: Muon on hidden matrices, AdamW on the rest (SPEC C.3)
    "ADAMW_DEFAULTS",
    "ADAMW_LABEL",
    "MUON_DEFAULTS",
    "MUON_LABEL",
    "NON_HIDDEN_PARTS",
    "OPTIMIZERS",
    "POLAR_MAPS",
    "SCALES",
    "ScaleByMuonState",
    "default_is_hidden",
    "hidden_labels",
    "make_optimizer",
    "muon",
    "optimizer_record",
    "scale_by_muon",
    "scale_by_shape",
    "shape_scale",
    # train.py: the scan training loop
    "History",
    "TrainState",
    "init_state",
    "make_train_step",
    "train",
    "validate_schedule",
    # cells.py: the sweep cell of Figures 7-9
    "KEY_FIELDS",
    "PAPER_SIZES",
    "RECALL_DEFAULTS",
    "RECALL_LIMITS",
    "RECALL_METRICS",
    "RecallExperimentConfig",
    "lr_grid",
    "model_config",
    "recall_cell",
    "recall_fixed",
    "recall_sweep",
    "validate_recall_config",
    "width_sweep",
    # analysis.py: learning-rate choice and paired comparisons (records -> numbers)
    "Advantage",
    "LrChoice",
    "advantage_comparison",
    "claim_comparisons",
    "final_step",
    "grid_means",
    "paired_advantage",
    "select_lr",
    # figures/ (Figures 7-9; the SPEC C.1 claims are in muonjax.theory.transformer)
    "figures",
]

# --- issue 15: LLaMA-style pre-training on long-tailed facts (SPEC C.2) -----------
# isort: split
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
    sample_facts_batch,
    sample_facts_sequence,
)
from muonjax.transformer.llama import (
    HIDDEN,
    LlamaConfig,
    causal_attention,
    flops_per_token,
    init_llama,
    llama_forward,
    llama_loss,
    llama_sequence_loss,
    rms_norm,
    rotary,
    swiglu,
)
from muonjax.transformer.longtail import (
    DECAYS,
    LONGTAIL_METRICS,
    LongtailSetup,
    evaluate_facts,
    lr_multiplier,
    train_one,
)
from muonjax.transformer.longtail_analysis import (
    FactsFits,
    LongtailCurves,
    TailGap,
    bucket_frequencies,
    chosen_lrs,
    facts_fits,
    longtail_curves,
    steps_to_reach,
    steps_to_reach_fit,
    tail_gap,
)
from muonjax.transformer.longtail_records import (
    LONGTAIL_PRESETS,
    LR_CHOICE_RULE,
    LongtailConfig,
    LongtailPlan,
    RecordedLongtail,
    choose_lr,
    record_longtail,
)
from muonjax.transformer.longtail_train import (
    GroupResult,
    group_records,
    train_group,
)
from muonjax.transformer.longtail_verdicts import (
    CHANCE_FACTOR,
    LongtailComparisons,
    longtail_comparisons,
)

# In data-flow order; the predictions of SPEC C.2 are in muonjax.theory.transformer.
__all__ += [  # noqa: RUF022
    # facts.py: the long-tailed corpus, streamed from keys
    "SEP",
    "FactsSpec",
    "Corpus",
    "Probes",
    "make_corpus",
    "sample_facts_sequence",
    "sample_facts_batch",
    "probe_prompts",
    "frequency_buckets",
    # llama.py: the LLaMA-style decoder
    "HIDDEN",
    "LlamaConfig",
    "init_llama",
    "rms_norm",
    "rotary",
    "swiglu",
    "causal_attention",
    "llama_forward",
    "llama_sequence_loss",
    "llama_loss",
    "flops_per_token",
    # longtail.py, checkpoint.py: checkpointed training of a learning-rate grid
    "DECAYS",
    "LONGTAIL_METRICS",
    "LongtailSetup",
    "GroupResult",
    "lr_multiplier",
    "evaluate_facts",
    "train_group",
    "train_one",
    "group_records",
    "choose_lr",
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint_meta",
    # longtail_records.py: the experiment's config, presets and records
    "LONGTAIL_PRESETS",
    "LR_CHOICE_RULE",
    "LongtailConfig",
    "LongtailPlan",
    "RecordedLongtail",
    "record_longtail",
    # longtail_analysis.py: records -> curves, gaps, fits, comparisons
    "LongtailCurves",
    "TailGap",
    "FactsFits",
    "chosen_lrs",
    "longtail_curves",
    "bucket_frequencies",
    "steps_to_reach",
    "steps_to_reach_fit",
    "tail_gap",
    "facts_fits",
    # longtail_verdicts.py: the claims of SPEC C.2 as verdict rows
    "CHANCE_FACTOR",
    "LongtailComparisons",
    "longtail_comparisons",
]
