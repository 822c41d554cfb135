import pytest
import torch

from lstm_mnist.model import LSTMClassifier


@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_shapes(num_layers, bidirectional):
    model = LSTMClassifier(hidden_size=16, num_layers=num_layers, bidirectional=bidirectional)
    images = torch.rand(4, 28, 28)
    assert model(images).shape == (4, 10)
    assert model(images.unsqueeze(1)).shape == (4, 10)  # [batch, 1, 28, 28] is accepted too
    assert model.logits_after_each_row(images).shape == (4, 28, 10)
    output, (h_n, c_n) = model.lstm(images)
    directions = 2 if bidirectional else 1
    assert output.shape == (4, 28, directions * 16)
    assert h_n.shape == c_n.shape == (num_layers * directions, 4, 16)


def test_final_hidden_state_is_last_output_one_directional():
    torch.manual_seed(0)
    model = LSTMClassifier(hidden_size=16, num_layers=2)
    images = torch.rand(3, 28, 28)
    output, (h_n, _) = model.lstm(images)
    torch.testing.assert_close(h_n[-1], output[:, -1])
    torch.testing.assert_close(model.logits_after_each_row(images)[:, -1], model(images))


def test_bidirectional_classifies_both_final_states():
    torch.manual_seed(0)
    model = LSTMClassifier(hidden_size=16, num_layers=2, bidirectional=True)
    images = torch.rand(3, 28, 28)
    output, (h_n, _) = model.lstm(images)
    # forward direction ends at the last row, backward direction at the first
    torch.testing.assert_close(h_n[-2], output[:, -1, :16])
    torch.testing.assert_close(h_n[-1], output[:, 0, 16:])
    expected = model.classifier(torch.cat([output[:, -1, :16], output[:, 0, 16:]], dim=1))
    torch.testing.assert_close(model(images), expected)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_samples_do_not_mix_across_the_batch(bidirectional):
    torch.manual_seed(0)
    model = LSTMClassifier(hidden_size=16, num_layers=2, bidirectional=bidirectional).eval()
    images = torch.rand(5, 28, 28)
    changed = images.clone()
    changed[2] = torch.rand(28, 28)
    before, after = model(images), model(changed)
    keep = [0, 1, 3, 4]
    torch.testing.assert_close(before[keep], after[keep])
    assert not torch.allclose(before[2], after[2])


def test_rejects_images_of_the_wrong_shape():
    with pytest.raises(ValueError, match="expected images of shape"):
        LSTMClassifier()(torch.rand(28, 28))
