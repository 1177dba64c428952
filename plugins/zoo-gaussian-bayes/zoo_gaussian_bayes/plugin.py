"""The zoo hooks of zoo-gaussian-bayes (no torch here: the model is imported only when built).

Example:
    $ zoo train gaussian-bayes --dataset mnist5k --out runs/gaussian-bayes   # the closed-form fit, seconds
    $ zoo sample gaussian-bayes.mnist -n 64 -o grid.png
"""

from __future__ import annotations

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="gaussian-bayes",
            model="zoo_gaussian_bayes.model:GaussianBayes",
            tasks=("unconditional", "classification"),
            description="Bayes-classifier sampler: one Gaussian p(x | y) per class (mean, full covariance + "
            "reg_covar I) and the class prior p(y); samples y ~ p(y), x ~ N(mu_y, Sigma_y); classifies by "
            "Bayes' rule (lazyprogrammer/machine_learning_examples).",
            paper="https://github.com/lazyprogrammer/machine_learning_examples/blob/master/unsupervised_class3/"
            "bayes_classifier_gaussian.py",
            training_step="zoo_gaussian_bayes.training:GaussianBayesTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 6},
            test_data={"dataset": "mnist5k", "options": {"size": 6}, "batch_size": 4500},
        )
    )
