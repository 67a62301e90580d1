"""Inference and evaluation: the paper's collaboration for one request (`sag generate`), the systems
compared on test-split targets, their scores, intervals and the report."""
