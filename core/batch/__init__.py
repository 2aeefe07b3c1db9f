"""Batch rendering of prompt lists (`loa batch`): a job file is read and checked whole (jobs), planned into
deterministic output files (plan), rendered locally or on a Ray cluster (runner, ray_pool) and recorded, one line
per file, in OUT/manifest.jsonl (manifest), so a rerun resumes and never duplicates. No Qt here."""
