"""Trivial baselines beside the metrics of the GAN cards of issue 16 (cheap: seconds on one thread).

    OMP_NUM_THREADS=1 ZOO_HUB_DIR=hub python scripts/gan_baselines.py

Prints (mnist5k: train 4,500 / test 500 digits):
- cogan: pair-agreement of real test digits against the transform of unrelated test digits, and of their own
  (``zoo_cogan.evaluation.reference_values``, seed 0);
- infogan: code-accuracy of k-means on raw pixels (10 clusters fitted on the 4,500 training digits, the 500
  test digits assigned to the nearest centre, the same Hungarian best matching as ``code-accuracy``), and of a
  single cluster (every digit in one code: the largest class's share);
- icgan: reconstruction-l1 of the mean training digit (32x32, ``size=32`` as the model's data) against each
  test digit, of the per-pixel median training digit and of a black image; mnistnet's accuracy on the 32x32
  test digits (resized back to 28 as edit-agreement does) and edit-agreement of the unedited digits (x read
  as t, for the 9 classes t != y);
- discogan: cycle-l1 of a round trip that returns black (the mean pixel value of each held-out split:
  digits test at size 28, margin 4, and mnist5k test);
- FID-MNIST of 500 real training digits against the 28x28 test digits (``zoo_core.metrics.baselines.
  real_digits_fid_mnist``): at 28x28 (23.8, the floor of the 28x28 models) and at 32x32 (the floor of the
  32x32 models: dcgan, wgan, icgan, whose samples the metric resizes to 28).
"""

from __future__ import annotations

import torch

from zoo_core.data import load_dataset
from zoo_core.metrics.baselines import real_digits_fid_mnist


def main() -> None:
    torch.manual_seed(0)
    from zoo_cogan.evaluation import reference_values

    for pair in ("edges", "negative"):
        values = reference_values(pair)
        print(f"cogan {pair}: unrelated {values['unrelated']:.4f}, paired {values['paired']:.4f}")

    from sklearn.cluster import KMeans
    from zoo_infogan.metrics import CodeAccuracy

    train = load_dataset("mnist5k", split="train")
    test = load_dataset("mnist5k", split="test")
    x_train, x_test = train.tensors(), test.tensors()
    y_test = test.labels.long()
    kmeans = KMeans(n_clusters=10, n_init=10, random_state=0).fit(x_train.flatten(1).numpy())
    metric = CodeAccuracy(num_labels=10)
    metric.update(prediction=torch.as_tensor(kmeans.predict(x_test.flatten(1).numpy())), target=y_test)
    print(f"infogan: k-means (10, pixels, train -> test) code-accuracy {metric.compute()['code-accuracy']:.4f}")
    metric = CodeAccuracy(num_labels=10)
    metric.update(prediction=torch.zeros(len(y_test), dtype=torch.long), target=y_test)
    print(f"infogan: one code for every digit: {metric.compute()['code-accuracy']:.4f}")

    train32 = load_dataset("mnist5k", split="train", size=32).tensors()
    test32 = load_dataset("mnist5k", split="test", size=32).tensors()
    mean = train32.mean(0, keepdim=True)
    median = train32.median(0, keepdim=True).values
    print(
        f"icgan: reconstruction-l1 of the mean training digit {(test32 - mean).abs().mean().item():.4f}, "
        f"of the per-pixel median training digit {(test32 - median).abs().mean().item():.4f}, "
        f"of a black image {test32.abs().mean().item():.4f}"
    )
    from zoo_core.builtin.mnistnet import mnist_features

    features = mnist_features()
    with torch.inference_mode():
        read32 = features.logits(test32.float()).argmax(1)
        read28 = features.logits(x_test.float()).argmax(1)
    wrong = int((read32 != y_test).sum())
    print(
        f"icgan: mnistnet accuracy on the 32x32 test digits {(read32 == y_test).float().mean().item():.4f} "
        f"(28x28: {(read28 == y_test).float().mean().item():.4f}); unedited digits' edit-agreement "
        f"{wrong}/{9 * len(y_test)} = {wrong / (9 * len(y_test)):.4f}"
    )

    for size in (28, 32):
        print(f"fid-mnist, 500 real training digits at {size}x{size}: {real_digits_fid_mnist(size):.2f}")


def discogan() -> None:
    """cycle-l1 of a round trip that returns black: the mean pixel value of each held-out split."""
    digits = load_dataset("digits", split="test", size=28, margin=4).tensors()
    mnist = load_dataset("mnist5k", split="test").tensors()
    print(
        f"discogan: black round trip, A->B->A ({len(digits)} scikit-learn digits) {digits.mean().item():.4f}, "
        f"B->A->B ({len(mnist)} MNIST digits) {mnist.mean().item():.4f}"
    )


def anogan() -> None:
    """AUROC per held-out digit of a score without a model: the squared distance of a test digit to the mean of the
    nine training classes (32x32, as the models' data), and of its nearest training digit."""
    from zoo_anogan.data import load as load_anomaly
    from zoo_anogan.metrics import auroc

    rows = []
    for k in range(10):
        train = load_anomaly("train", digit=k).tensors().flatten(1)
        test = load_anomaly("test", digit=k)
        x, anomalies = test.tensors().flatten(1), test.anomalies
        mean = ((x - train.mean(0)) ** 2).sum(1)
        nearest = torch.cdist(x, train).min(1).values
        rows.append((auroc(mean, anomalies), auroc(nearest, anomalies)))
        print(
            f"anogan digit {k}: AUROC of the distance to the mean digit {rows[-1][0]:.3f}, "
            f"to the nearest {rows[-1][1]:.3f}"
        )
    print(f"anogan mean: {sum(r[0] for r in rows) / 10:.3f}, {sum(r[1] for r in rows) / 10:.3f}")


if __name__ == "__main__":
    main()
    discogan()
    anogan()
