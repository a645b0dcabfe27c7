"""exgen: exam-practice exercises with checked answer keys for the systems side of LLMs."""

__version__ = "0.1.0"
