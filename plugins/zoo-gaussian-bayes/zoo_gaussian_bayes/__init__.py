"""zoo-gaussian-bayes: the Bayes-classifier sampler, one Gaussian p(x | y) per digit class and the prior p(y)."""
