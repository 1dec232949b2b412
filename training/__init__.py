"""Training-side code: the corpus, its validator, fine-tuning and baselines (never imported by the library)."""
