"""Study pipelines built on semnet (see STUDY.md)."""
