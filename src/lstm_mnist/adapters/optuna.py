"""Optuna's private name this project relies on: a trial's id in its storage (``trial.number``
counts within a study, the storage's heartbeat takes the id), for the sweep's heartbeats
(apps/sweep_budget.py)."""


def trial_id(trial) -> int:
    return trial._trial_id
