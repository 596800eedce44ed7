"""cfteval: evaluation harness and trainer for Critique Fine-Tuning of reasoning models."""

__version__ = "0.1.0"
