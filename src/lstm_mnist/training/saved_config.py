"""The run's ``config.yaml``, the file that reruns or resumes it: written whole or not at all, and
given to each tracker that keeps files."""

from pathlib import Path

from lightning.pytorch.cli import SaveConfigCallback

from lstm_mnist.storage.atomic import write_atomically
from lstm_mnist.training.trackers import send_file


class AtomicSaveConfig(SaveConfigCallback):
    """Writes the run's ``config.yaml`` (the file that reruns or resumes it) with ``write_atomically``."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.already_saved:
            return
        log_dir = trainer.log_dir  # every rank must ask: Lightning broadcasts it
        if trainer.is_global_zero:
            self.path = Path(log_dir) / self.config_filename
            text = self.parser.dump(self.config, skip_none=False)
            write_atomically(self.path, lambda file: file.write(text.encode()))
            self.save_config(trainer, pl_module, stage)
            self.already_saved = True
        self.already_saved = trainer.strategy.broadcast(self.already_saved)

    def save_config(self, trainer, pl_module, stage: str) -> None:
        """Lightning's hook for keeping the config elsewhere too (rank 0 only): config.yaml goes to
        each tracker that keeps files, so that the tracker alone holds what reruns the run. (Not
        ``trainer.log_dir`` here: every rank must ask for it, and only rank 0 comes here.)"""
        send_file(trainer.loggers, self.path)
