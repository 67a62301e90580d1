"""Evaluation: the systems compared on test-split targets, their scores, intervals and the report."""
