"""Inference: covariance matrices of the estimates."""
