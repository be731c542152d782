"""The paper's active-learning score, the relevance learner, oracles, the labelling loop, strategies."""
