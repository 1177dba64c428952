"""zoo-vae: faithful to pytorch/examples vae/main.py, and the published vae.mnist behaves as recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn
from zoo_vae.model import VAE, VAEConfig, kl_divergence, loss_function

import zoo_core as zoo
from zoo_core.data import load_dataset

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
PUBLISHED = REPO_ROOT / "hub" / "zoo" / "vae-mnist"


class ReferenceLayout(nn.Module):
    """The layers of pytorch/examples vae/main.py, as documented (names and shapes only)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)


def test_state_dict_is_the_reference_layout() -> None:
    model = zoo.create("vae")
    reference = ReferenceLayout()
    assert list(model.state_dict()) == list(reference.state_dict())
    assert {k: v.shape for k, v in model.state_dict().items()} == {
        k: v.shape for k, v in reference.state_dict().items()
    }
    assert model.num_parameters() == 652_824


def test_a_reference_state_dict_loads_strictly_and_decodes_the_same() -> None:
    torch.manual_seed(0)
    reference = ReferenceLayout()
    model = VAE.from_weights(VAEConfig(), reference.state_dict())
    z = torch.randn(4, 20)
    expected = torch.sigmoid(reference.fc4(F.relu(reference.fc3(z))))  # the reference's decode()
    assert torch.allclose(model.decode(z).reshape(4, 784), expected)
    x = torch.rand(4, 1, 28, 28)
    h = F.relu(reference.fc1(x.view(-1, 784)))  # the reference's encode()
    mu, logvar = model.posterior(x)
    assert torch.allclose(mu, reference.fc21(h)) and torch.allclose(logvar, reference.fc22(h))


def test_kl_matches_torch_distributions() -> None:
    mu, logvar = torch.randn(5, 20), torch.randn(5, 20)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(5, 20), torch.ones(5, 20))
    assert torch.allclose(kl_divergence(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1), atol=1e-5)


def test_loss_is_summed_bce_plus_kl_and_negative_elbo_agrees() -> None:
    torch.manual_seed(1)
    model = zoo.create("vae")
    x = torch.rand(6, 1, 28, 28)
    generator = torch.Generator().manual_seed(7)
    per_image = model.negative_elbo(x, generator)
    # The same posterior sample, through the reference's loss (sigmoid, then summed BCE + KL).
    mu, logvar = model.posterior(x)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(7))
    recon = torch.sigmoid(model.decode_logits(mu + eps * torch.exp(0.5 * logvar)))
    reference = loss_function(recon, x, mu, logvar)
    assert per_image.shape == (6,)
    assert torch.allclose(per_image.sum(), reference, rtol=1e-5)


def test_a_training_step_on_real_digits_lowers_the_loss() -> None:
    torch.manual_seed(0)
    x = load_dataset("mnist5k", split="train").tensors()[:256]
    model = zoo.create("vae")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss() -> torch.Tensor:
        recon, mu, logvar = model(x)
        return loss_function(recon, x, mu, logvar) / len(x)

    first = loss().item()
    for _ in range(30):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
    assert loss().item() < 0.6 * first


def test_verbs_check_their_inputs() -> None:
    model = zoo.create("vae").eval()
    assert model.encode(torch.rand(3, 1, 28, 28)).shape == (3, 20)
    assert model.decode(torch.randn(3, 20)).shape == (3, 1, 28, 28)
    with pytest.raises(zoo.ZooError, match="1 channel\\(s\\), got 3"):
        model.encode(torch.rand(3, 3, 28, 28))
    with pytest.raises(zoo.ZooError, match="28x28 images, got 32x32"):
        model.encode(torch.rand(3, 1, 32, 32))
    with pytest.raises(zoo.ZooError, match="codes shaped \\(N, 20\\)"):
        model.decode(torch.randn(3, 8))


def test_published_vae_mnist_golden_samples() -> None:
    """A fixed seed's samples of the published weights equal the stored golden output."""
    golden = load_file(HERE / "golden" / "vae_mnist.safetensors")["samples_seed0"]
    model = zoo.ZooModel.from_pretrained(PUBLISHED)
    samples = model.sample(8, seed=0)
    assert samples.shape == (8, 1, 28, 28)
    assert torch.allclose(samples, golden, atol=1e-5)  # stored on another CPU: float32 kernels round differently


@pytest.mark.parametrize("metric", ["elbo", "fid-mnist"])
def test_zoo_eval_reproduces_the_card(metric: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`zoo eval vae.mnist --metric M --dataset mnist5k` gives the number in the card and the registry."""
    from click.testing import CliRunner

    from zoo_core.cli import cli

    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))  # the published files, sha256-checked
    result = CliRunner().invoke(cli, ["eval", "vae.mnist", "--metric", metric, "--dataset", "mnist5k", "--json"])
    assert result.exit_code == 0, result.output
    (measured,) = json.loads(result.output)
    recorded = next(m for m in zoo.info("vae.mnist").metrics if m["name"] == metric)
    # computed on this CPU, recorded on another: float32 kernels differ in the 6th-7th digit, a real change in the 2nd
    assert measured["value"] == pytest.approx(recorded["value"], rel=1e-4)
    card = (PUBLISHED / "README.md").read_text()
    assert f"| {metric} | {recorded['value']:.4g} |" in card


def test_elbo_is_plausible_and_iwae_is_tighter() -> None:
    values = {m["name"]: m["value"] for m in zoo.info("vae.mnist").metrics}
    assert -130 < values["elbo"] < -90  # a one-layer VAE on MNIST sits around -100 nats
    assert values["iwae-nll"] < -values["elbo"]  # the importance-weighted bound is tighter


def test_architecture_declaration_matches_the_model() -> None:
    from zoo_core._factory import model_class

    assert model_class("vae") is VAE
    assert VAE.task_names() == ("unconditional", "latent")


#: how far a retraining may land from the card, in nats: its ELBO on the test split and its final training loss
#: (the mean of the last logged steps). Another CPU rounds the 4,680 Adam steps of float32 arithmetic differently
#: (MKL / oneDNN pick other kernels), so the weights drift apart and the card's sha256 cannot be expected; the
#: model stays as good. The bands are set well above that drift, which acts like a small perturbation of the
#: trajectory and is expected to stay within the seed-to-seed spread of such a VAE (well under a nat; not measured
#: across machines here), and far below what a broken run gives: the untrained model's ELBO is about -540 nats, and
#: the training loss is still about 124 nats after 16 of the 130 epochs (measured on the project's 2-core machine).
ELBO_TOLERANCE = 2.0
TRAIN_LOSS_TOLERANCE = 2.0


def retrain_with_the_cards_command(out: Path, *extra: str) -> Path:
    """Run the command in vae.mnist's card (``--out`` replaced by ``out``), plus ``extra``; returns ``out``."""
    import os
    import shlex
    import subprocess
    import sys

    command = zoo.info("vae.mnist").made_by["command"]
    words = shlex.split(command)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ZOO_"))}
    while "=" in words[0]:  # leading VAR=value assignments
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    assert words[:2] == ["zoo", "train"], command
    words[words.index("--out") + 1] = str(out)
    done = subprocess.run(
        [sys.executable, "-m", "zoo_core", *words[1:], *extra],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def card_training_loss() -> float:
    """The final training loss the card reports ("Final training losses (...): loss 101.2")."""
    import re

    match = re.search(r"Final training losses \(mean over the last logged steps\): loss ([0-9]+(?:\.[0-9]+)?)", _card())
    assert match, "the card no longer states its final training loss"
    return float(match.group(1))


def _card() -> str:
    return (PUBLISHED / "README.md").read_text()


@pytest.mark.slow
def test_the_cards_command_reproduces_the_published_model(tmp_path: Path) -> None:
    """The command in vae.mnist's card trains a VAE as good as the published one: the card's ELBO and final
    training loss, within ELBO_TOLERANCE / TRAIN_LOSS_TOLERANCE nats (not its sha256: see ELBO_TOLERANCE).

    The training takes 20 s on 2 free cores; the ELBO is measured as the card's (``zoo.evaluate``, seed 0).
    """
    from zoo_core.training.logging import read_log

    run = retrain_with_the_cards_command(tmp_path / "run", "--no-eval")
    records = read_log(run / "log.jsonl")
    assert records[-1]["step"] == 4680  # the whole recipe: 130 epochs of 36 batches
    assert records[-1]["loss"] == pytest.approx(card_training_loss(), abs=TRAIN_LOSS_TOLERANCE)
    model = zoo.ZooModel.from_pretrained(run / "model")
    (measured,) = zoo.evaluate(model, "elbo", "mnist5k")
    recorded = next(m for m in zoo.info("vae.mnist").metrics if m["name"] == "elbo")
    assert measured["value"] == pytest.approx(recorded["value"], abs=ELBO_TOLERANCE)
