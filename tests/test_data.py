import pytest
import torch

from helpers.running import refused
from helpers.tiny_mnist import make_tiny_mnist, write_idx
from lstm_mnist.data.batches import TensorBatches
from lstm_mnist.data.mnist import MNISTDataModule, default_data_dir
from lstm_mnist.errors import UserInputError


def test_split_sizes_dtype_and_range(tiny_data):
    data = MNISTDataModule(data_dir=str(tiny_data), val_size=100)
    data.setup()
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = (data.splits[s] for s in ("train", "val", "test"))
    assert (len(train_x), len(val_x), len(test_x)) == (500, 100, 200)
    assert len(train_y) == 500 and len(val_y) == 100 and len(test_y) == 200
    assert train_x.dtype == torch.float32 and train_x.shape[1:] == (28, 28)
    assert train_y.dtype == torch.int64
    assert float(train_x.min()) >= 0.0 and float(train_x.max()) == 1.0
    # train and validation come from the same 600 images without overlap
    rows = {tuple(x.flatten().tolist()) for x in torch.cat([train_x, val_x])}
    assert len(rows) == 600


def test_split_follows_its_seed(tiny_data):
    def val_images(seed):
        data = MNISTDataModule(data_dir=str(tiny_data), val_size=100, split_seed=seed)
        data.setup()
        return data.splits["val"][0]

    torch.testing.assert_close(val_images(1), val_images(1))
    assert not torch.equal(val_images(1), val_images(2))


def test_setup_twice_reads_once(tiny_data, monkeypatch):
    data = MNISTDataModule(data_dir=str(tiny_data), val_size=100)
    data.setup()
    first = data.splits["train"][0]
    import lstm_mnist.data.mnist as data_module

    monkeypatch.setattr(data_module, "read_idx_pair", lambda *a: pytest.fail("read the files again"))
    for stage in ("fit", "validate", "test", "predict", None):
        data.setup(stage)
    assert data.splits["train"][0] is first


def test_test_stage_reads_only_the_test_set(tiny_data):
    data = MNISTDataModule(data_dir=str(tiny_data), val_size=5000)  # larger than the tiny training set
    data.setup("test")
    assert set(data.splits) == {"test"}
    with pytest.raises(UserInputError, match="val_size must be between 1 and 599"):
        data.setup("fit")


def test_data_dir_defaults_to_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LSTM_MNIST_DATA_DIR", str(tmp_path))
    assert MNISTDataModule().data_dir == str(tmp_path)
    monkeypatch.delenv("LSTM_MNIST_DATA_DIR")
    assert default_data_dir() == "data"


def test_missing_data_names_folder_and_files(tmp_path):
    data = MNISTDataModule(data_dir=str(tmp_path / "nowhere"), download=False)
    with pytest.raises(UserInputError) as error:
        data.setup()
    message = str(error.value)
    assert str((tmp_path / "nowhere" / "MNIST" / "raw").resolve()) in message
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        assert name in message


def test_cli_missing_data_is_one_line(tmp_path):
    result = refused(
        *("fit", "--data.data_dir", str(tmp_path / "empty"), "--data.download", "false"),
        root=tmp_path / "runs",
        expect="error: MNIST not found in",
    )
    error_lines = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "MNIST not found in" in error_lines[0] and "t10k-labels-idx1-ubyte" in error_lines[0]


def test_corrupt_file_is_named(tmp_path):
    data_dir = make_tiny_mnist(tmp_path)
    images = data_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    images.write_bytes(b"\x00\x00\x09\x09" + images.read_bytes()[4:])  # wrong magic number
    with pytest.raises(UserInputError, match="t10k-images-idx3-ubyte is not a valid MNIST IDX file"):
        MNISTDataModule(data_dir=str(data_dir), val_size=100).setup()


def test_wrong_image_size_is_named(tmp_path):
    data_dir = make_tiny_mnist(tmp_path)
    write_idx(
        data_dir / "MNIST" / "raw" / "train-images-idx3-ubyte", torch.zeros(600, 14, 14, dtype=torch.uint8).numpy()
    )
    with pytest.raises(UserInputError, match="14x14 pixels, not 28x28"):
        MNISTDataModule(data_dir=str(data_dir), val_size=100).setup()


def test_batches_cover_every_sample_once_per_epoch_in_a_seeded_order():
    samples = torch.arange(23)
    loader = TensorBatches((samples, samples * 10), batch_size=5, shuffle=True, seed=3)
    assert len(loader) == 5

    def epoch(number):
        loader.set_epoch(number)
        return torch.cat([x for x, _ in loader])

    first = epoch(0)
    assert sorted(first.tolist()) == list(range(23))
    torch.testing.assert_close(epoch(0), first)
    assert not torch.equal(epoch(1), first)
    images, labels = next(iter(loader))
    torch.testing.assert_close(labels, images * 10)  # the tensors are cut with the same index


def test_batches_split_across_ranks_without_overlap():
    samples = torch.arange(10)
    shards = [
        torch.cat([x for (x,) in TensorBatches((samples,), 2, shuffle=True, rank=r, world_size=2)]) for r in (0, 1)
    ]
    assert len(shards[0]) == len(shards[1]) == 5
    assert sorted(torch.cat(shards).tolist()) == list(range(10))


def test_batches_resume_mid_epoch_where_they_stopped():
    samples = torch.arange(20)
    loader = TensorBatches((samples,), batch_size=4, shuffle=True, seed=1)
    loader.set_epoch(2)
    iterator = iter(loader)
    seen = [next(iterator)[0] for _ in range(2)]
    state = loader.state_dict()
    assert state == {"epoch": 2, "position": 2}

    resumed = TensorBatches((samples,), batch_size=4, shuffle=True, seed=1)
    resumed.load_state_dict(state)
    resumed.set_epoch(2)
    rest = [x for (x,) in resumed]
    assert len(rest) == 3
    assert sorted(torch.cat(seen + rest).tolist()) == list(range(20))


def test_worker_loader_gives_the_same_batches_shape(tiny_data):
    data = MNISTDataModule(data_dir=str(tiny_data), val_size=100, batch_size=8, num_workers=1)
    data.setup()
    images, labels = next(iter(data.train_dataloader()))
    assert images.shape == (8, 28, 28) and labels.shape == (8,)
