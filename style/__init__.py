"""The style filter: a style embedder and calibrated scorers that give the probability that two
posts share an author's style, and the earlier -> later pairs of a user's posts they select."""
