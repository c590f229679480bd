"""Workflows built on fitted models: model comparison and (later) invariance, moderation."""
