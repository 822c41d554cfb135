"""W&B's private name this project relies on: whether a run logs offline (its settings' ``mode`` says
so since wandb 0.19, ``_offline`` before), for the end-of-fit line that says how to upload it."""


def is_offline(run) -> bool:
    return bool(getattr(run.settings, "_offline", False)) or run.settings.mode in ("offline", "dryrun")
