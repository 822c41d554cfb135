"""TensorBoard's pictures of a run whose network reads both ways: "how the answer forms" is drawn
from the prefixes it reads anew, on the first ``--pictures.chart_images`` images."""

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers.running import QUICK, run_main


def test_a_bidirectional_run_draws_how_its_answer_forms(tiny_data, tmp_path):
    flags = ["--model.bidirectional", "true", "--model.hidden_size", "8", "--pictures.every_n_validations", "1"]
    run_main("fit", *QUICK, *flags, "--pictures.chart_images", "30", root=tmp_path, data_dir=tiny_data)
    events = EventAccumulator(str(tmp_path / "lightning_logs" / "version_0"))  # fit's and test's files
    events.Reload()
    for stage in ("val", "test"):
        [picture] = events.Images(f"{stage}/answer_forms")
        assert picture.width > 0 and picture.step == 10
