"""zoo-gmm: Gaussian mixtures by EM and by variational Bayes with a Dirichlet-process prior, one per digit class."""
