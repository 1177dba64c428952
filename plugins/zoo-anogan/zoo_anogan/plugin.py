"""The zoo hooks of zoo-anogan (no torch here: the model, data and metric are imported only when used).

It declares the task ``anomaly-detection`` (``zoo_anogan.tasks``: ``score(x, *, method="encoder",
seed=0)``, one score per image, higher = more anomalous; ``method`` "encoder" is f-AnoGAN's one
pass, "latent-search" AnoGAN's search), the architecture ``anogan`` that serves it (and
``unconditional``: samples of its generator), the dataset ``mnist5k-anomaly`` (one digit held out
of training, marked as the anomalies of the test split), the metric ``auroc`` and its evaluation
protocol ``anomaly-scores``.

Example:
    $ zoo tasks                      # lists anomaly-detection (plugin zoo-anogan)
    $ zoo train anogan --dataset mnist5k-anomaly --dataset-option digit=0 --out runs/anogan-no0 \\
          --name anogan.mnist-no0 --config image_size=32 --config ngf=32 --config ndf=32 --config nef=32 \\
          --config anomaly_class=0 --steps 4000 --train-config gan_steps=1000 --train-config enc_lr=2e-4
    $ zoo eval anogan.mnist-no0 --metric auroc

    >>> import torch, zoo_core as zoo
    >>> model = zoo.load("anogan.mnist-no0")
    >>> test = zoo.load_dataset("mnist5k-anomaly", split="test", digit=0)
    >>> x = torch.stack([test[i]["image"] for i in range(len(test))])
    >>> scores = model.score(x)                                   # f-AnoGAN, one pass
    >>> slow = model.score(x[:8], method="latent-search", seed=0)  # AnoGAN, 500 Adam steps on z
"""

from __future__ import annotations

from zoo_core import Architecture, DatasetInfo, EvaluationProtocol, MetricInfo, Task, hookimpl

from .tasks import TASK, AnomalyDetection


@hookimpl
def register_tasks(register):
    register(
        Task(
            'score(x, *, method="encoder", seed=0)',
            "image-classification",
            AnomalyDetection,
            TASK,
            base="zoo_anogan.tasks:AnomalyDetector",
            conformance="zoo_anogan.tasks:conformance_calls",
        )
    )


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="anogan",
            model="zoo_anogan.model:AnoGAN",
            tasks=(TASK, "unconditional"),
            description="AnoGAN: a DCGAN of normal images scores an image by the latent code that best explains "
            "it: AnoGAN's search (500 Adam steps on z, residual + 0.1 feature-matching loss) or f-AnoGAN's "
            "izif encoder in one pass (seokinj/anoGAN, tSchlegl/f-AnoGAN).",
            paper="https://arxiv.org/abs/1703.05921",
            training_step="zoo_anogan.training:AnoGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing); its one training
            # step is an encoder step (gan_steps 0), the GAN phase is tested in tests/test_anogan.py
            test_config={"image_size": 16, "nz": 8, "ngf": 4, "ndf": 4, "nef": 4},
            test_data={"train_config": {"gan_steps": 0}},
        )
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetInfo(
            name="mnist5k-anomaly",
            load="zoo_anogan.data:load",
            description="One-class MNIST from mnist5k with digit=K (0-9) as the anomaly: train = mnist5k's training "
            "digits of the nine other classes (4,050); test = all 500 test digits, items marked anomaly=1 for "
            "class K (50) and 0 otherwise; size (default 32, the anogan networks' size) resizes as mnist5k's.",
            splits=("train", "test"),
            image_size=(32, 32),
            channels=1,
            license="CC BY-SA 3.0 (MNIST, LeCun, Cortes and Burges)",
        )
    )


@hookimpl
def register_metrics(register):
    register(
        MetricInfo(
            name="auroc",
            create="zoo_anogan.metrics:AUROC",
            description="Area under the ROC curve of an anomaly detector's score (method=encoder or latent-search, "
            "steps=N) against the split's anomaly marks (anomalies positive), by the rank formula; 0.5 is chance.",
            tasks=(TASK,),
            higher_is_better=True,
            unit="",
        )
    )


@hookimpl
def register_evaluation_protocols(register):
    register(
        EvaluationProtocol(
            "anomaly-scores",
            tasks=(TASK,),
            provides=("score", "anomaly"),
            feed="zoo_anogan.metrics:feed_anomaly_scores",
            description="score(image, method=...) of each item of a dataset that marks anomalies (mnist5k-anomaly), "
            "in order, with its anomaly mark; a latent search starts from codes drawn with the seed",
            metrics=("auroc",),
            seeded=True,
        )
    )


@hookimpl
def register_commands(cli):
    """``zoo score``: anomaly scores of image files and folders (``zoo_anogan.cli``; torch only when it runs)."""
    from .cli import score

    cli.add_command(score)
