import pytest
import torch

from lstm_mnist.nets.reading_order import fixed_permutation
from lstm_mnist.nets.recurrent import RecurrentClassifier

ORDERS = ["rows", "columns", "pixels", "permuted"]
CELLS = ["lstm", "gru", "rnn"]
STEPS = {"rows": 28, "columns": 28, "pixels": 784, "permuted": 784}


@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_shapes(num_layers, bidirectional):
    model = RecurrentClassifier(hidden_size=16, num_layers=num_layers, bidirectional=bidirectional)
    images = torch.rand(4, 28, 28)
    assert model(images).shape == (4, 10)
    assert model(images.unsqueeze(1)).shape == (4, 10)  # [batch, 1, 28, 28] is accepted too
    steps, logits = model.answers_after_steps(images)
    assert steps == list(range(1, 29)) and logits.shape == (4, 28, 10)
    output, (h_n, c_n) = model.rnn(images)
    directions = 2 if bidirectional else 1
    assert output.shape == (4, 28, directions * 16)
    assert h_n.shape == c_n.shape == (num_layers * directions, 4, 16)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("order", ORDERS)
def test_every_order_and_cell_reads_the_right_sequence(order, cell):
    model = RecurrentClassifier(hidden_size=8, num_layers=2, bidirectional=True, dropout=0.1, cell=cell, order=order)
    assert type(model.rnn).__name__ == cell.upper()
    assert model.rnn.input_size == (28 if order in ("rows", "columns") else 1)
    images = torch.rand(3, 28, 28)
    sequence = model.as_sequence(images)
    assert sequence.shape == (3, STEPS[order], model.rnn.input_size)
    expected = {
        "rows": images,
        "columns": images.transpose(1, 2),
        "pixels": images.reshape(3, 784, 1),
        "permuted": images.reshape(3, 784, 1)[:, fixed_permutation(0)],
    }[order]
    torch.testing.assert_close(sequence, expected)
    assert model(images).shape == (3, 10)
    steps = model.chart_steps()  # bidirectional: 28 reading lengths, the last the whole sequence
    assert len(steps) == 28 and steps[-1] == STEPS[order]


@pytest.mark.parametrize("cell", CELLS)
def test_final_hidden_state_is_last_output_one_directional(cell):
    torch.manual_seed(0)
    model = RecurrentClassifier(hidden_size=16, num_layers=2, cell=cell)
    images = torch.rand(3, 28, 28)
    output, h_n = model.rnn(images)
    h_n = h_n[0] if cell == "lstm" else h_n
    torch.testing.assert_close(h_n[-1], output[:, -1])
    torch.testing.assert_close(model.answers_after_steps(images)[1][:, -1], model(images))


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_classifies_both_final_states(cell):
    torch.manual_seed(0)
    model = RecurrentClassifier(hidden_size=16, num_layers=2, bidirectional=True, cell=cell)
    images = torch.rand(3, 28, 28)
    output, _ = model.rnn(images)
    # forward direction ends at the last row, backward direction at the first
    expected = model.classifier(torch.cat([output[:, -1, :16], output[:, 0, 16:]], dim=1))
    torch.testing.assert_close(model(images), expected)


def test_permutation_is_fixed_by_its_seed_and_travels_in_the_state_dict():
    first, again, other = (RecurrentClassifier(hidden_size=4, order="permuted", permutation_seed=s) for s in (7, 7, 8))
    assert torch.equal(first.permutation, again.permutation)
    assert not torch.equal(first.permutation, other.permutation)
    assert sorted(first.permutation.tolist()) == list(range(784))  # every pixel once
    other.load_state_dict(first.state_dict())  # the stored order wins over the seed
    images = torch.rand(2, 28, 28)
    torch.testing.assert_close(other(images), first(images))
    assert "permutation" not in RecurrentClassifier(order="pixels").state_dict()


def test_forget_bias_opens_the_lstm_forget_gates_only():
    model = RecurrentClassifier(hidden_size=8, num_layers=2, forget_bias=3.0)
    for layer in range(2):
        bias = getattr(model.rnn, f"bias_ih_l{layer}")
        assert torch.all(bias[8:16] == 3.0) and not torch.any(bias[:8] == 3.0)
    with pytest.raises(ValueError, match="forget_bias is a setting of LSTM cells only, not of cell gru"):
        RecurrentClassifier(forget_bias=1.0, cell="gru")


def test_reads_checkpoints_that_named_the_layer_lstm():
    model = RecurrentClassifier(hidden_size=8)
    earlier = {key.replace("rnn.", "lstm.", 1): value for key, value in model.state_dict().items()}
    fresh = RecurrentClassifier(hidden_size=8)
    fresh.load_state_dict(earlier)
    images = torch.rand(2, 28, 28)
    torch.testing.assert_close(fresh(images), model(images))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_samples_do_not_mix_across_the_batch(bidirectional):
    torch.manual_seed(0)
    model = RecurrentClassifier(hidden_size=16, num_layers=2, bidirectional=bidirectional).eval()
    images = torch.rand(5, 28, 28)
    changed = images.clone()
    changed[2] = torch.rand(28, 28)
    before, after = model(images), model(changed)
    keep = [0, 1, 3, 4]
    torch.testing.assert_close(before[keep], after[keep])
    assert not torch.allclose(before[2], after[2])


def test_rejects_images_of_the_wrong_shape():
    with pytest.raises(ValueError, match="expected images of shape"):
        RecurrentClassifier()(torch.rand(28, 28))
    with pytest.raises(ValueError, match="expected images of shape"):
        RecurrentClassifier(order="pixels")(torch.rand(2, 14, 14))


def answers_of_prefixes(model: RecurrentClassifier, images: torch.Tensor, steps: list[int]) -> torch.Tensor:
    """The network run afresh on the first t steps of each sequence, for every t: ``[batch, len(steps), 10]``."""
    sequence = model.as_sequence(images)
    answers = []
    for t in steps:
        _, h_n = model.rnn(sequence[:, :t].clone())
        h_n = h_n[0] if model.cell == "lstm" else h_n
        final = torch.cat([h_n[-2], h_n[-1]], dim=1) if model.rnn.bidirectional else h_n[-1]
        answers.append(model.classifier(final))
    return torch.stack(answers, dim=1)


# every t of the rows; of the 784 pixels the first, the last and some between (each prefix is a run)
CHECKED_AT = {"rows": list(range(1, 29)), "pixels": [1, 2, 3, 28, 29, 100, 391, 392, 783, 784]}
ORDER_AND_CELL = [("rows", "lstm"), ("rows", "gru"), ("rows", "rnn"), ("pixels", "lstm")]


@pytest.mark.parametrize("order, cell", ORDER_AND_CELL)
def test_one_directional_answers_after_t_steps_are_the_readout_of_output_t(order, cell):
    """The fast path (the classifier on ``output[:, t - 1]``, one pass) is the network's answer
    had it read t steps only, for every t."""
    torch.manual_seed(0)
    model = RecurrentClassifier(hidden_size=8, num_layers=2, cell=cell, order=order).eval()
    images = torch.rand(5, 28, 28)
    with torch.inference_mode():
        steps, logits = model.answers_after_steps(images)
        assert steps == list(range(1, STEPS[order] + 1))
        checked = CHECKED_AT[order]
        prefixes = answers_of_prefixes(model, images, checked)
    torch.testing.assert_close(logits[:, [t - 1 for t in checked]], prefixes, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("order, cell", [*ORDER_AND_CELL[:3], ("permuted", "lstm")])
def test_bidirectional_answers_after_t_steps_read_each_prefix_and_end_at_the_answer(order, cell):
    """Bidirectional, ``output[:, t - 1]`` is no answer after t steps (its backward half has read
    steps t..end): the chart reads 28 prefixes, and its last point is the answer."""
    torch.manual_seed(0)
    model = RecurrentClassifier(hidden_size=8, num_layers=2, bidirectional=True, cell=cell, order=order).eval()
    images = torch.rand(6, 28, 28)
    with torch.inference_mode():
        steps, logits = model.answers_after_steps(images)
        answer = model(images)
        output, _ = model.rnn(model.as_sequence(images))
    assert steps == [STEPS[order] * point // 28 for point in range(1, 29)]
    torch.testing.assert_close(logits[:, -1].softmax(-1), answer.softmax(-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(logits, answers_of_prefixes(model, images, steps), atol=1e-5, rtol=1e-5)
    # the per-step readout it replaces gives another answer at the end
    readout = model.classifier(output[:, [t - 1 for t in steps]])
    assert not torch.allclose(readout[:, -1], answer, atol=1e-3)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_answer_is_the_models_and_the_steps_lead_to_it(bidirectional):
    """``answer_and_steps``, which the pictures and the demo page show: the answer is what ``forward``
    gives, and the chart's last point is that answer."""
    from lstm_mnist.training.digit_classifier import DigitClassifier

    torch.manual_seed(0)
    model = DigitClassifier(RecurrentClassifier(hidden_size=8, bidirectional=bidirectional)).eval()
    images = torch.rand(6, 28, 28)
    with torch.inference_mode():
        answer, steps, logits = model.answer_and_steps(images)
        expected = model(images)
    torch.testing.assert_close(answer, expected)
    assert steps == list(range(1, 29)) and logits.shape == (6, 28, 10)
    torch.testing.assert_close(logits[:, -1], expected, atol=1e-5, rtol=1e-5)
