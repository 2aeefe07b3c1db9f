"""In-context defaults that the CLI shows in --help, torch-free so that building the parser imports no model code
(core.incontext.transform re-exports them)."""

DEFAULT_STRENGTH = 0.5  # transform: half the schedule noised, so the timing survives and the sound follows the prompt
