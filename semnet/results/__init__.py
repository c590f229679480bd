"""Post-estimation results: fit measures, standardized solutions, summaries."""
