"""The zoo hooks of zoo-gmm (no torch here: the model is imported only when built).

Example:
    $ zoo train gmm --dataset mnist5k --out runs/gmm                                  # EM, 10 components a class
    $ zoo train gmm --dataset mnist5k --out runs/gmm-dp --config inference=dirichlet-process
    $ zoo train gmm --dataset mnist5k --out runs/gmm --train-config 'reg_covar_grid=[1e-6,1e-4,1e-3,1e-2,1e-1]'
"""

from __future__ import annotations

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="gmm",
            model="zoo_gmm.model:GMM",
            tasks=("unconditional", "classification"),
            description="Gaussian mixture per class, fitted by EM (k-means++ init, reg_covar 1e-6 unless chosen on a "
            "validation split) or by variational Bayes with a Dirichlet-process prior (scikit-learn's GaussianMixture "
            "/ BayesianGaussianMixture); samples a class, a component, then its Gaussian; classifies by Bayes' rule.",
            paper="https://scikit-learn.org/stable/modules/mixture.html",
            training_step="zoo_gmm.training:GMMTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 6, "n_components": 2},
            test_data={
                "dataset": "mnist5k",
                "options": {"size": 6},
                "batch_size": 4500,
                "train_config": {"max_iter": 3},
            },
        )
    )
