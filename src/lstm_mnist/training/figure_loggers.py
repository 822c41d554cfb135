"""Where a run's pictures go: every logger of the run that keeps images.

TensorBoard takes a matplotlib figure (``add_figure``); MLflow keeps it as an artifact of the run
(``log_figure``, one PNG a step: ``val/confusion_matrix/step_000050.png``); Weights & Biases as an
image at the step. Loggers that keep no images (CSV) are left out without a word. Only rank 0
draws: the others hold no writer.
"""

from collections.abc import Callable

import lightning as L
from matplotlib.figure import Figure

Send = Callable[[str, Figure, int], None]


def figure_loggers(trainer: L.Trainer) -> list[Send]:
    """One function ``send(tag, figure, step)`` for each logger that keeps images; none off rank 0."""
    from lightning.pytorch.loggers import MLFlowLogger, TensorBoardLogger, WandbLogger

    if not trainer.is_global_zero:
        return []
    sends: list[Send] = []
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            writer = logger.experiment
            sends.append(lambda tag, figure, step, writer=writer: writer.add_figure(tag, figure, step, close=False))
        elif isinstance(logger, MLFlowLogger):
            sends.append(
                lambda tag, figure, step, logger=logger: logger.experiment.log_figure(
                    logger.run_id, figure, f"{tag}/step_{step:06d}.png"
                )
            )
        elif isinstance(logger, WandbLogger):
            sends.append(
                lambda tag, figure, step, logger=logger: logger.log_image(key=tag, images=[pixels(figure)], step=step)
            )
    return sends


def send_figure(sends: list[Send], tag: str, figure: Figure, step: int) -> None:
    for send in sends:
        send(tag, figure, step)


def pixels(figure: Figure):
    """The figure drawn, as an RGB array (what W&B's images take)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
