"""zoo-stackgan's text side: attributes measured on digits, the captions written from them, the captioned
dataset, the char-CNN-RNN text encoder, its input checks, and its joint training through ``zoo train``."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from zoo_stackgan.captions import (
    ATTRIBUTES,
    DIGIT_WORDS,
    LEVELS,
    THRESHOLDS,
    attribute_prompts,
    caption_specs,
    captions_for,
    digit_prompts,
    fit_thresholds,
    load_mnist5k_captions,
    measure_attributes,
    quantise,
)
from zoo_stackgan.text_encoder import ALPHABET, CharCNNRNN, TextEncoder, TextEncoderConfig, check_text
from zoo_stackgan.text_training import (
    TextEncoderTrainingStep,
    compatible_pairs,
    joint_embedding_loss,
    retrieval_accuracy,
)

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig

EMPTY = 'The text is empty; describe the digit, e.g. "a thick seven slanting to the right".'
#: a small text encoder for fast tests (the published one is 1024-d)
TINY = {
    "embedding_dim": 32,
    "conv_channels": [16, 16],
    "cnn_dim": 16,
    "max_length": 72,
    "image_widths": [8, 8, 8],
    "image_hidden": 16,
}
#: the words that state each level (medium thickness / width are stated by "medium" phrases only)
LEVEL_WORDS = {
    "thickness": (
        ("thin", "fine", "light"),
        ("medium stroke", "regular pen", "medium thickness"),
        ("thick", "bold", "heavy"),
    ),
    "slant": (("left",), ("upright", "straight", "not slanted"), ("right",)),
    "width": (("narrow", "condensed"), ("medium width", "average width"), ("wide", "broad")),
}


# -- measuring ---------------------------------------------------------------------------------
def stroke(width: int, angle: float = 0.0, length: int = 20, size: int = 28) -> torch.Tensor:
    """A binary bar ``width`` pixels wide and ``length`` high, its top leaning ``angle`` degrees to the right."""
    image = torch.zeros(1, 1, size, size)
    top = (size - length) // 2
    shear = math.tan(math.radians(angle))
    for row in range(top, top + length):
        centre = size / 2 + shear * ((top + top + length - 1) / 2 - row)  # rows grow downwards
        left = round(centre - width / 2)
        image[0, 0, row, left : left + width] = 1.0
    return image


def test_thickness_grows_with_the_stroke_and_is_close_to_its_width() -> None:
    bars = torch.cat([stroke(w) for w in (1, 2, 3, 4, 5)])
    thickness = measure_attributes(bars)["thickness"]
    assert torch.all(thickness[1:] > thickness[:-1])
    # a w x 20 bar: area 20w, outline 2(20 + w): 2 * area / outline = 20w / (20 + w)
    assert torch.allclose(thickness, torch.tensor([20 * w / (20 + w) for w in (1, 2, 3, 4, 5)]), atol=1e-4)


def test_slant_is_the_shear_angle_positive_to_the_right() -> None:
    angles = (-30.0, -15.0, 0.0, 15.0, 30.0)
    slant = measure_attributes(torch.cat([stroke(3, a) for a in angles]))["slant"]
    assert torch.all(slant[1:] > slant[:-1])
    assert slant[2] == 0.0
    assert torch.allclose(slant, torch.tensor(angles), atol=2.0)  # rows are rounded to whole pixels


def test_width_is_measured_across_the_deskewed_digit() -> None:
    upright = measure_attributes(torch.cat([stroke(w) for w in (2, 4, 8)]))["width"]
    assert torch.allclose(upright, torch.tensor([2.0, 4.0, 8.0]), atol=1e-4)
    leaning = measure_attributes(torch.cat([stroke(w, 25.0) for w in (2, 4, 8)]))["width"]
    assert torch.allclose(leaning, upright, atol=0.6)  # the slant does not make a bar wider


def test_uint8_and_float_images_measure_alike_and_empty_images_measure_zero() -> None:
    bar = stroke(3, 10.0)
    as_float = measure_attributes(torch.cat([bar, torch.zeros_like(bar)]))
    as_uint8 = measure_attributes((torch.cat([bar, torch.zeros_like(bar)]) * 255).to(torch.uint8))
    for name in ATTRIBUTES:
        assert torch.allclose(as_float[name], as_uint8[name])
        assert as_float[name][1] == 0.0
    with pytest.raises(ZooError, match=r"grey digits shaped \(N, 1, H, W\)"):
        measure_attributes(torch.zeros(1, 3, 28, 28))


def test_levels_cut_at_the_thresholds() -> None:
    low, high = THRESHOLDS["thickness"]
    measured = {
        "thickness": torch.tensor([low - 0.1, (low + high) / 2, high + 0.1]),
        "slant": torch.tensor([-20.0, 0.0, 20.0]),
        "width": torch.tensor([1.0, 3.7, 9.0]),  # the ones' cut points: 3.37 and 4.07
    }
    levels = quantise(measured, torch.tensor([1, 1, 1]))
    assert levels.tolist() == [[0, 0, 0], [1, 1, 1], [2, 2, 2]]


def test_the_stored_thresholds_are_the_train_splits_tertiles() -> None:
    from zoo_core.datasets import mnist5k

    train = mnist5k.load("train")
    fitted = fit_thresholds(measure_attributes(train.images), train.labels)
    assert fitted["slant"] == THRESHOLDS["slant"]
    assert fitted["thickness"] == pytest.approx(THRESHOLDS["thickness"], abs=1e-3)
    for digit in range(10):
        assert fitted["width"][digit] == pytest.approx(THRESHOLDS["width"][digit], abs=1e-3)


# -- captions ----------------------------------------------------------------------------------
def _says(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w])", text) is not None or (" " in word and word in text)


def test_the_issues_example_is_the_first_caption() -> None:
    captions = captions_for(7, {"thickness": "thick", "slant": "right", "width": "wide"})
    assert captions[0] == "a thick seven slanting to the right"
    assert captions_for(2, {"thickness": "thin", "slant": "upright", "width": "narrow"})[1] == "a thin upright two"
    assert captions_for(3, (0, 1, 0))[2] == "the digit 3, narrow and thin"
    assert len(set(captions)) == len(captions) == 10


@pytest.mark.parametrize("label", range(10))
def test_captions_name_the_digit_and_state_exactly_the_levels_they_claim(label: int) -> None:
    other_digits = [w for d, w in enumerate(DIGIT_WORDS) if d != label] + [str(d) for d in range(10) if d != label]
    forms = set()
    for levels, variant in itertools.product(itertools.product(range(3), repeat=3), range(4)):
        for text, stated in caption_specs(label, levels, variant):
            assert text == text.strip() and "  " not in text and set(text) <= set(ALPHABET), text
            assert _says(text, DIGIT_WORDS[label]) or _says(text, str(label)), text
            assert not any(_says(text, w) for w in other_digits), text
            forms.add(_says(text, str(label)))
            for k, name in enumerate(ATTRIBUTES):
                if stated[k] >= 0:
                    assert stated[k] == levels[k], (text, stated)  # a caption never contradicts its image
                    assert any(_says(text, w) for w in LEVEL_WORDS[name][stated[k]]), (text, name)
                for level, words in enumerate(LEVEL_WORDS[name]):
                    if level != stated[k]:
                        assert not any(_says(text, w) for w in words), (text, name, level)
    assert forms == {True, False}  # both "7" and "seven"


def test_articles_follow_the_sound() -> None:
    assert captions_for(8, (1, 1, 1), variant=1)[8] == "an upright eight"
    assert digit_prompts(8)[:2] == ["an eight", "an 8"]
    assert digit_prompts(1)[:2] == ["a one", "a 1"]
    assert not any(re.search(r"\ba [aeiou8]", t) for t in captions_for(8, (0, 1, 2)) if "a one" not in t)


def test_prompts_state_one_attribute() -> None:
    assert attribute_prompts(7, "slant", 2)[0] == "a seven slanting to the right"
    for name, level in itertools.product(ATTRIBUTES, range(3)):
        for text in attribute_prompts(7, name, level):
            assert any(_says(text, w) for w in LEVEL_WORDS[name][level]), text
    with pytest.raises(ZooError, match="Unknown attribute"):
        attribute_prompts(7, "colour", 0)
    with pytest.raises(ZooError, match="not a level of slant"):
        captions_for(7, {"thickness": "thick", "slant": "sideways", "width": "wide"})


# -- the dataset -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def train_captions():
    return load_mnist5k_captions("train", seed=0)


def test_items_follow_the_dataset_contract(train_captions) -> None:
    data = load_dataset("mnist5k-captions", split="train")
    assert len(data) == 4500 and data.kind == "captioned" and data.channels == 1 and data.image_size == (28, 28)
    item = data[5]
    assert item["image"].shape == (1, 28, 28) and item["image"].dtype == torch.float32
    assert float(item["image"].min()) >= 0 and float(item["image"].max()) <= 1
    assert isinstance(item["label"], int) and isinstance(item["caption"], str)
    assert item["caption"] in data.captions(5) and len(data.captions(5)) == 10
    words = (DIGIT_WORDS[item["label"]], str(item["label"]))
    assert all(any(_says(c, w) for w in words) for c in data.captions(5))
    stated, levels = item["mentions"], item["attributes"]
    assert torch.all((stated < 0) | (stated == levels))
    assert train_captions.attributes(5) == {n: LEVELS[n][int(i)] for n, i in zip(ATTRIBUTES, levels, strict=True)}
    assert [int((data.levels[:, 0] == lv).sum()) for lv in range(3)] == [1500, 1500, 1500]  # tertiles


def test_items_are_reproducible_per_seed_epoch_and_index(train_captions) -> None:
    again = load_mnist5k_captions("train", seed=0)
    other_seed = load_mnist5k_captions("train", seed=1)
    indices = range(0, 4500, 45)
    first = [train_captions[i]["caption"] for i in indices]
    assert [again[i]["caption"] for i in reversed(indices)] == first[::-1]  # order of reading does not matter
    assert first != [other_seed[i]["caption"] for i in indices]
    again.set_epoch(1)
    second = [again[i]["caption"] for i in indices]
    assert sum(a != b for a, b in zip(first, second, strict=True)) > 50
    train_captions.set_epoch(1)
    try:
        assert [train_captions[i]["caption"] for i in indices] == second
    finally:
        train_captions.set_epoch(0)


def test_test_split_and_sizes() -> None:
    test = load_mnist5k_captions("test", size=32)
    assert len(test) == 500 and test.image_size == (32, 32) and test[0]["image"].shape == (1, 32, 32)
    assert test[7]["caption"] == test.captions(7)[0]  # evaluation keeps the first caption
    assert torch.equal(test.levels, load_mnist5k_captions("test").levels)  # measured at 28x28 either way
    with pytest.raises(ZooError, match="pick must be"):
        load_mnist5k_captions("test", pick="last")


# -- checking text -----------------------------------------------------------------------------
def test_text_is_normalised() -> None:
    assert check_text("  A Thick\tSEVEN   slanting ") == "a thick seven slanting"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_one_sentence(text: str) -> None:
    with pytest.raises(ZooError) as error:
        check_text(text)
    assert str(error.value) == EMPTY


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("日本", ["'日' (U+65E5", "'本' (U+672C"]),
        ("a seven 🙂", ["U+1F642 SLIGHTLY SMILING FACE"]),
        ("a sévén", ["'é'"]),
    ],
)
def test_unknown_characters_are_named(text: str, named: list[str]) -> None:
    with pytest.raises(ZooError) as error:
        check_text(text)
    message = str(error.value)
    assert "characters the text encoder does not know" in message
    assert "it knows only a-z, 0-9, the space and , . ; : ! ? ' -" in message
    for part in named:
        assert part in message
    assert message.endswith("(upper case is read as lower case).") and "\n" not in message  # one sentence


def test_too_long_text_names_the_limit() -> None:
    assert check_text("a" * 128, max_length=128) == "a" * 128
    with pytest.raises(ZooError, match="129 characters long but the text encoder reads at most 128; shorten it"):
        check_text("a" * 129, max_length=128)
    with pytest.raises(ZooError, match="must be a string"):
        check_text(7)  # type: ignore[arg-type]


# -- the encoder -------------------------------------------------------------------------------
def test_char_cnn_rnn_shapes_keys_and_distinct_embeddings() -> None:
    torch.manual_seed(0)
    encoder = CharCNNRNN()
    assert sorted(encoder.state_dict()) == sorted(
        [f"cnn.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
        + [f"rnn.{p}_l0" for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        + ["proj.weight", "proj.bias"]
    )
    assert encoder.tokenize("a b").tolist()[0][:4] == [1, 37, 2, 0]
    texts = ["a thick seven slanting to the right", "a thin seven slanting to the right", "a 1"]
    with torch.no_grad():
        out = encoder.encode(texts)
        assert out.shape == (3, 1024)
        assert torch.allclose(encoder.encode("A THICK seven  slanting to the right")[0], out[0], atol=1e-5)
    assert (out[0] - out[1]).abs().max() > 1e-4 and (out[0] - out[2]).abs().max() > 1e-4
    with pytest.raises(ZooError, match="at least 48"):
        CharCNNRNN(max_length=40)
    with pytest.raises(ZooError) as error:
        encoder.encode(["a 7", ""])
    assert str(error.value) == EMPTY


def test_text_encoder_model_embeds_as_its_encoder_and_checks_input() -> None:
    """(save_pretrained -> load giving the same embeddings is the kit's save-load check: test_*_conformance.)"""
    model = zoo.create("stackgan-text", **TINY).eval()
    assert isinstance(model, TextEncoder) and model.tasks == ("text-embedding",)
    assert isinstance(model.config, TextEncoderConfig) and TextEncoderConfig().embedding_dim == 1024
    embedded = model.encode_text(["a thick 7", "a thin upright two"])
    assert embedded.shape == (2, 32) and not embedded.requires_grad
    assert model.compatibility(torch.rand(3, 1, 28, 28), ["a 7", "a 1"]).shape == (3, 2)
    alone = CharCNNRNN.from_config(model.config).eval()  # what a StackGAN holds as its text_encoder
    alone.load_state_dict(model.encoder.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.equal(alone.encode(["a thick 7", "a thin upright two"]), embedded)
    with pytest.raises(ZooError, match="U\\+65E5"):
        model.encode_text("日本")
    with pytest.raises(ZooError, match="1 channel"):
        model.encode_image(torch.rand(2, 3, 28, 28))


# -- training ----------------------------------------------------------------------------------
def test_compatible_pairs_leave_out_captions_that_fit() -> None:
    batch = {
        "label": torch.tensor([7, 7, 1]),
        "attributes": torch.tensor([[2, 2, 1], [0, 2, 1], [2, 2, 1]]),
        "mentions": torch.tensor([[2, -1, -1], [-1, 2, -1], [-1, -1, -1]]),
        "caption": ["a thick seven", "a seven leaning right", "a one"],
    }
    assert compatible_pairs(batch).tolist() == [[True, True, False], [False, True, False], [False, False, True]]
    plain = compatible_pairs({"caption": ["a 7", "a 1", "a 7"]})
    assert plain.tolist() == [[True, False, True], [False, True, False], [True, False, True]]


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["softmax", "hinge"])
def test_a_few_training_steps_reduce_the_loss(tmp_path: Path, loss: str) -> None:
    torch.manual_seed(0)
    model = TextEncoder(TextEncoderConfig(**TINY))
    data = load_mnist5k_captions("train")
    batch = {k: v for k, v in torch.utils.data.default_collate([data[i] for i in range(0, 4500, 140)]).items()}
    config = TrainConfig("stackgan-text", "mnist5k-captions", str(tmp_path), steps=60, batch_size=33,
                         step_config={"loss": loss, "lr": 3e-3, "cosine": False})  # fmt: skip
    step = TextEncoderTrainingStep(model, config)
    step.check_dataset(data)
    step.nets = step.networks()
    step.opts = step.optimizers()
    step.scheds = step.schedulers()
    losses = []
    for i in range(60):
        losses.append(float(step.train_step(batch, i)["loss"]))
        for scheduler in step.scheds.values():
            scheduler.step()
    assert losses[-1] < 0.5 * losses[0], losses
    value, scores = joint_embedding_loss(torch.randn(4, 8), torch.randn(4, 8), torch.eye(4, dtype=torch.bool), loss)
    assert value.ndim == 0 and scores.shape == (4, 4)


def test_zoo_train_through_the_cli_and_retrieval(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "stackgan-text", "--dataset", "mnist5k-captions", "--out", str(out), "--steps", "3",
            "--batch-size", "16", "--log-every", "1"]  # fmt: skip
    for key, value in TINY.items():
        args += ["--config", f"{key}={value}".replace(" ", "")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    model = zoo.load(str(out / "model"))
    assert model.encode_text("a thick seven slanting to the right").shape == (1, 32)
    scores = retrieval_accuracy(model, load_mnist5k_captions("test"))
    assert set(scores) == {"digit", "thickness", "slant", "width", "all"}
    assert all(0 <= v <= 1 for v in scores.values())


def test_zoo_train_refuses_uncaptioned_data(tmp_path: Path) -> None:
    args = ["train", "stackgan-text", "--dataset", "mnist5k", "--out", str(tmp_path / "r"), "--steps", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "stackgan-text trains on captioned images" in result.output
