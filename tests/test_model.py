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
    assert model.logits_after_each_step(images).shape == (4, 28, 10)
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
    assert model.logits_after_each_step(images).shape == (3, STEPS[order], 10)


@pytest.mark.parametrize("cell", CELLS)
def test_final_hidden_state_is_last_output_one_directional(cell):
    torch.manual_seed(0)
    model = RecurrentClassifier(hidden_size=16, num_layers=2, cell=cell)
    images = torch.rand(3, 28, 28)
    output, h_n = model.rnn(images)
    h_n = h_n[0] if cell == "lstm" else h_n
    torch.testing.assert_close(h_n[-1], output[:, -1])
    torch.testing.assert_close(model.logits_after_each_step(images)[:, -1], model(images))


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


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_answer_is_the_models_and_the_steps_lead_to_it(bidirectional):
    """``answer_and_steps``, which the pictures and the demo page show: the answer is what ``forward``
    gives; one-directional it is also the last step's (bidirectional it is not)."""
    from lstm_mnist.training.recipe import LitLSTMClassifier

    torch.manual_seed(0)
    model = LitLSTMClassifier(RecurrentClassifier(hidden_size=8, bidirectional=bidirectional)).eval()
    images = torch.rand(6, 28, 28)
    with torch.inference_mode():
        answer, steps = model.answer_and_steps(images)
        expected = model(images)
    torch.testing.assert_close(answer, expected)
    assert steps.shape == (6, 28, 10)
    assert torch.allclose(steps[:, -1], expected) != bidirectional
