"""The number reader's network: a line's scores are its own, whatever it is batched with."""

import torch

from lstm_mnist.data.line_batches import make_batch
from lstm_mnist.data.line_composition import LineStyle
from lstm_mnist.nets.column_reader import ColumnReader


def test_a_lines_scores_do_not_depend_on_its_batch():
    torch.manual_seed(0)
    net = ColumnReader(hidden_size=16, num_layers=2, channels=(4, 8)).eval()
    for module in net.modules():  # trained-looking batch statistics, not the initial 0 and 1
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    digits = torch.rand(20, 28, 28) * (torch.rand(20, 28, 28) > 0.6)
    lines, widths, _, _ = make_batch(digits, torch.arange(20) % 10, 6, LineStyle(), torch.Generator().manual_seed(1))
    standardized = (lines - 0.1307) / 0.3081  # as the task gives them: the padding is background
    with torch.inference_mode():
        together = net(standardized, widths)
        for line, width, scores in zip(standardized, widths, together):
            alone = net(line[None, :, :width])[0]
            assert alone.shape == (width // 4, 11)
            assert torch.allclose(alone, scores[: width // 4], atol=1e-5)
    assert widths.min() < widths.max()  # the batch did pad some lines


def test_steps_follow_the_width():
    net = ColumnReader(front="none", hidden_size=8, num_layers=1)
    assert net(torch.zeros(2, 28, 50)).shape == (2, 50, 11)
    assert net.steps(torch.tensor([50, 3])).tolist() == [50, 3]
    assert ColumnReader().steps(torch.tensor([57, 3])).tolist() == [14, 1]
