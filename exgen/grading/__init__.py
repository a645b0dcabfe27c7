"""Grading: comparing values with keys (compare.py); parsing student text lives beside it."""
