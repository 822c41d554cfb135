"""``python sweep.py --n_trials N [--study_name S] [--storage URL] [--space FILE] [fit flags]``: an
Optuna study whose trials are ordinary ``fit`` runs of this project.

Every trial is a run of its own (``lightning_logs/version_N`` with its config.yaml, checkpoints
and events), so TensorBoard's HPARAMS tab compares them and any can be rerun or resumed by hand.
The search space is a YAML file (``configs/sweep.yaml``); fit flags given here fix a setting for
every trial. Trials maximise ``val/acc_best``; the median pruner stops unpromising ones at a
validation. The study lives in a SQLite file in the sweep's folder unless ``--storage`` names a
PostgreSQL database, where several machines run ``--n_trials`` between them (``sweep_budget.py``).
At the end: every trial, the best, ``best.yaml`` that reruns it, and pictures.
"""

import argparse
import contextlib
import inspect
import os
import sys
import warnings
from pathlib import Path

import yaml

from lstm_mnist.apps.cli import make_cli, network_shorthand
from lstm_mnist.apps.program import program
from lstm_mnist.apps.sweep_budget import Budget, budget_lock, counted, without_password
from lstm_mnist.data.mnist import MNISTDataModule
from lstm_mnist.errors import UserInputError, behind
from lstm_mnist.storage.atomic import os_error_behind, write_atomically
from lstm_mnist.training.digit_classifier import DigitClassifier
from lstm_mnist.training.metric_names import VAL_ACC_BEST

DEFAULT_SPACE = "configs/sweep.yaml"
SPEC_KEYS = {"low", "high", "log", "choices"}
# A running trial's heartbeat: one database write every so many seconds; a dead worker's trial is
# run again by another after twice that.
HEARTBEAT_INTERVAL = 30


def fit_settings() -> dict[str, set[str]]:
    """The settings a fit flag can name, by section (the network's given directly under ``model``)."""
    import lightning as L

    settings = {
        section: set(inspect.signature(cls).parameters) - {"self", "args", "kwargs"}
        for section, cls in (("model", DigitClassifier), ("data", MNISTDataModule), ("trainer", L.Trainer))
    }
    settings["model"] |= network_shorthand()
    return settings


def read_space(path: Path, fixed: set[str]) -> tuple[dict[str, dict], dict]:
    """``(space, pruner settings)`` from the YAML file at ``path``, checked; the settings in ``fixed``
    (given as fit flags) are left out of the space. Anything wrong is a one-line ``UserInputError``."""
    if not path.is_file():
        raise UserInputError(f"--space {path} does not exist: give the search-space file (see {DEFAULT_SPACE})")
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise UserInputError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from error
    if not isinstance(content, dict) or not isinstance(content.get("space"), dict) or not content["space"]:
        raise UserInputError(f"{path} must hold a mapping `space:` of fit settings to ranges (see {DEFAULT_SPACE})")
    unknown = set(content) - {"space", "pruner"}
    if unknown:
        raise UserInputError(f"{path}: unknown section {', '.join(sorted(unknown))} (it takes space and pruner)")
    settings = fit_settings()
    space = {}
    for name, spec in content["space"].items():
        section, _, setting = str(name).partition(".")
        if setting not in settings.get(section, ()):
            raise UserInputError(f"{path}: {name} is not a fit setting (model.*, data.* or trainer.*, as in --help)")
        space[name] = check_spec(path, name, spec)
    pruner = content.get("pruner") or {}
    if not isinstance(pruner, dict):
        raise UserInputError(f"{path}: pruner must be a mapping of MedianPruner's arguments")
    return {name: spec for name, spec in space.items() if name not in fixed}, pruner


def check_spec(path: Path, name: str, spec) -> dict:
    """One entry of the space: ``{choices: [...]}`` or ``{low, high[, log]}``."""
    where = f"{path}: {name}"
    if not isinstance(spec, dict) or not spec.keys() <= SPEC_KEYS:
        raise UserInputError(f"{where} must be {{low: A, high: B[, log: true]}} or {{choices: [...]}}, got {spec!r}")
    if "choices" in spec:
        if set(spec) != {"choices"} or not isinstance(spec["choices"], list) or not spec["choices"]:
            raise UserInputError(f"{where}: choices must be a non-empty list, and alone")
        return spec
    low, high = spec.get("low"), spec.get("high")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)) or not low < high:
        raise UserInputError(f"{where}: low and high must be numbers with low < high, got {low!r} and {high!r}")
    if spec.get("log") and low <= 0:
        raise UserInputError(f"{where}: a log scale needs low > 0, got {low}")
    return spec


def suggest(trial, name: str, spec: dict):
    if "choices" in spec:
        return trial.suggest_categorical(name, spec["choices"])
    if isinstance(spec["low"], int) and isinstance(spec["high"], int):
        return trial.suggest_int(name, spec["low"], spec["high"], log=bool(spec.get("log")))
    return trial.suggest_float(name, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log")))


def flag_names(fit_flags: list[str]) -> set[str]:
    """The settings that fit flags name: ``--model.lr 0.01`` and ``--model.lr=0.01`` give ``model.lr``."""
    return {flag[2:].split("=", 1)[0] for flag in fit_flags if flag.startswith("--")}


def flag_value(fit_flags: list[str], name: str, default: str) -> str:
    for index, flag in enumerate(fit_flags):
        if flag == f"--{name}" and index + 1 < len(fit_flags):
            return fit_flags[index + 1]
        if flag.startswith(f"--{name}="):
            return flag.split("=", 1)[1]
    return default


def pruning_callback(trial):
    """Optuna's Lightning callback, reporting ``val/acc_best`` at every validation by training step
    (the stock callback reports by epoch, which keeps only the first of the 20-odd validations an
    epoch has here), and recording the trial's run folder."""
    import optuna
    from optuna_integration import PyTorchLightningPruningCallback

    class PruneAtValidation(PyTorchLightningPruningCallback):
        interrupted = False  # Ctrl-C: Lightning turns the KeyboardInterrupt into exit(1) after telling us

        def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
            self.interrupted = isinstance(exception, KeyboardInterrupt)

        def on_fit_start(self, trainer, pl_module) -> None:
            super().on_fit_start(trainer, pl_module)
            self._trial.set_user_attr("run", trainer.log_dir)

        def on_validation_end(self, trainer, pl_module) -> None:
            if trainer.sanity_checking or self.is_ddp_backend:
                return super().on_validation_end(trainer, pl_module)
            score = float(trainer.callback_metrics[self.monitor])
            self._trial.report(score, step=trainer.global_step)
            if self._trial.should_prune():
                raise optuna.TrialPruned(f"pruned at step {trainer.global_step} ({self.monitor} {score:.4f})")

    return PruneAtValidation(trial, monitor=VAL_ACC_BEST)


def run_trial(study, trial, space: dict, fit_flags: list[str], total: int) -> None:
    """One fit with the trial's settings; its outcome told to the study."""
    import optuna

    params = {name: suggest(trial, name, spec) for name, spec in space.items()}
    print(f"\ntrial {trial.number} of {total}: " + " ".join(f"{k}={v}" for k, v in params.items()), flush=True)
    args = ["fit", *fit_flags, *(item for name, value in params.items() for item in (f"--{name}", str(value)))]
    pruner = pruning_callback(trial)
    try:
        try:
            cli = make_cli(args, callbacks=[pruner])
        except SystemExit as error:
            if pruner.interrupted:
                raise KeyboardInterrupt from error
            raise
        if cli.best_score is None:
            raise UserInputError("no validation ran: the run is shorter than --trainer.val_check_interval steps")
        value = float(cli.best_score)
    except optuna.TrialPruned as pruned:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        print(f"trial {trial.number}: {pruned}", flush=True)
    except KeyboardInterrupt:
        trial.set_user_attr("interrupted", True)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    except (Exception, SystemExit) as error:  # SystemExit: LightningCLI refused the arguments
        if database_error_behind(error) is not None:
            raise  # the study cannot be written: nothing more can be told to it (sweep() says so)
        if os_error_behind(error) is not None:  # a file of the run refused: the next trial would meet it too
            with contextlib.suppress(Exception):
                trial.set_user_attr("stopped", str(error))
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        message = f"the fit's arguments were refused (exit {error.code})" if isinstance(error, SystemExit) else error
        trial.set_user_attr("error", str(message))
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        print(f"trial {trial.number} failed: {message}", flush=True)
        if isinstance(error, SystemExit):
            raise UserInputError(f"trial {trial.number}: {message}; check the fit flags given to sweep.py") from error
    else:
        study.tell(trial, value)
        print(f"trial {trial.number}: {VAL_ACC_BEST} {value:.4f} ({trial.user_attrs.get('run')})", flush=True)


def summary(study, total: int) -> list[str]:
    import optuna

    lines = [f"\nstudy {study.study_name}: {len(study.trials)} trials (--n_trials {total})"]
    for t in study.trials:
        if t.state == optuna.trial.TrialState.COMPLETE:
            outcome = f"{VAL_ACC_BEST} {t.value:.4f}"
        elif t.state == optuna.trial.TrialState.FAIL and "error" in t.user_attrs:
            outcome = f"failed: {t.user_attrs['error']}"
        elif t.state == optuna.trial.TrialState.FAIL and "stopped" in t.user_attrs:
            outcome = f"stopped: {t.user_attrs['stopped']}"
        elif t.state == optuna.trial.TrialState.FAIL:
            outcome = "interrupted" if t.user_attrs.get("interrupted") else "its worker stopped; run again"
        else:
            outcome = t.state.name.lower()
            if t.state == optuna.trial.TrialState.PRUNED and t.intermediate_values:
                outcome += f" at step {max(t.intermediate_values)}"
        lines.append(f"  trial {t.number:>3}  {outcome:<34} {t.user_attrs.get('run', '')}")
    return lines


def write_results(study, folder: Path) -> list[str]:
    """``best.yaml`` (the best trial's own config.yaml, which reruns it with ``fit --config``; its
    logger left to the default, so that ``--trainer.default_root_dir`` says where the rerun goes)
    and the pictures, in ``folder``; the lines that say so."""
    import optuna

    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    ran = [trial for trial in completed if "run" in trial.user_attrs]  # not those added by hand (add_trial)
    if not ran:
        raise UserInputError(f"no trial of study {study.study_name} completed: nothing to recommend")
    best = max(ran, key=lambda trial: trial.value)  # the study maximises val/acc_best
    run = Path(best.user_attrs["run"])
    header = (
        f"# The best trial of study {study.study_name}: trial {best.number}, {VAL_ACC_BEST} {best.value:.4f}\n"
        f"# (its run: {run}). Rerun it with:  python train.py fit --config {folder / 'best.yaml'}\n"
    )
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["trainer"]["logger"] = None
    config = header + yaml.safe_dump(config, sort_keys=False)
    write_atomically(folder / "best.yaml", lambda file: file.write(config.encode()))
    lines = [
        f"best: trial {best.number}, {VAL_ACC_BEST} {best.value:.4f}",
        *(f"  {name} = {value}" for name, value in best.params.items()),
        f"{'best.yaml:':<17}{folder / 'best.yaml'}",
    ]
    lines += draw_pictures(study, folder, len(completed))
    return lines


def draw_pictures(study, folder: Path, completed: int) -> list[str]:
    """Optuna's optimisation history and parameter importances as PNG files (importances need two
    completed trials)."""
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as plots

    drawn = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # the matplotlib plots are marked so
        pictures = [("history.png", plots.plot_optimization_history)]
        if completed >= 2 and study.best_trial.params:
            pictures.append(("importances.png", plots.plot_param_importances))
        for name, plot in pictures:
            figure = plot(study).figure
            figure.set_size_inches(8, 5)
            figure.tight_layout()
            write_atomically(folder / name, lambda file, figure=figure: figure.savefig(file, format="png", dpi=100))
            drawn.append(f"{name + ':':<17}{folder / name}")
            plt.close(figure)
    return drawn


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="sweep.py",
        description="Search hyperparameters with Optuna: every trial is a fit run; flags after these apply to all.",
    )
    parser.add_argument("--n_trials", type=int, required=True, help="trials in the study, all workers together")
    parser.add_argument("--study_name", default="sweep", help="the study (and its folder under sweeps/)")
    parser.add_argument(
        "--storage",
        help="a database several machines share (postgresql://USER:PASSWORD@HOST/DB) or sqlite:///FILE; "
        "default: sweeps/NAME/study.db",
    )
    parser.add_argument(
        "--heartbeat_interval",
        type=int,
        default=HEARTBEAT_INTERVAL,
        help="seconds between a running trial's heartbeats; a trial silent for twice that is failed and run "
        f"again by another worker (default: {HEARTBEAT_INTERVAL})",
    )
    parser.add_argument("--space", default=DEFAULT_SPACE, help=f"the search-space file (default: {DEFAULT_SPACE})")
    options, fit_flags = parser.parse_known_args(args)
    with program():
        try:
            sweep(options, fit_flags)
        except KeyboardInterrupt:
            print("\ninterrupted: run the same command again to go on with the study", file=sys.stderr)
            sys.exit(130)


def sweep(options, fit_flags: list[str]) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")  # Optuna's plots go through pyplot; no display is needed
    try:
        import optuna
        import optuna_integration  # noqa: F401
    except ImportError as error:
        raise UserInputError(f"sweeps need the sweep extra ({error}): pip install -e '.[sweep]'") from error
    if options.n_trials < 1:
        raise UserInputError(f"--n_trials must be at least 1, got {options.n_trials}")
    space, pruner_settings = read_space(Path(options.space), fixed=flag_names(fit_flags))
    try:
        pruner = optuna.pruners.MedianPruner(**pruner_settings)
    except (TypeError, ValueError) as error:
        raise UserInputError(f"{options.space}: pruner: {error}") from error
    root = Path(flag_value(fit_flags, "trainer.default_root_dir", "."))
    folder = root / "sweeps" / options.study_name
    folder.mkdir(parents=True, exist_ok=True)
    storage_url = options.storage or f"sqlite:///{(folder / 'study.db').resolve()}"
    if options.heartbeat_interval < 1:
        raise UserInputError(f"--heartbeat_interval must be at least 1 second, got {options.heartbeat_interval}")
    lock, shown_url = budget_lock(storage_url), without_password(storage_url)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # this module says what each trial did
    try:
        with lock():  # workers started together would each create the tables
            storage = optuna.storages.RDBStorage(
                storage_url,
                # Several workers on one SQLite file wait for each other's writes instead of failing.
                engine_kwargs={"connect_args": {"timeout": 60}} if storage_url.startswith("sqlite") else {},
                heartbeat_interval=options.heartbeat_interval,
            )
            study = optuna.create_study(
                study_name=options.study_name, storage=storage, direction="maximize", pruner=pruner, load_if_exists=True
            )
    except Exception as error:  # a URL Optuna or SQLAlchemy cannot use, a server that does not answer
        raise UserInputError(f"cannot open the study in {shown_url}: {one_line(error)}") from error
    budget = Budget(study, storage, options.n_trials, lock, options.heartbeat_interval)
    print(f"study {options.study_name} in {shown_url}: {counted(study)} of {options.n_trials} trials so far")
    try:
        while (trial := budget.next_trial()) is not None:
            with budget.heartbeat(trial):
                run_trial(study, trial, space, fit_flags, options.n_trials)
        lines = summary(study, options.n_trials)
    except Exception as error:
        cause = database_error_behind(error)
        if cause is None:
            raise
        raise UserInputError(
            f"cannot write the study in {shown_url}: {cause}; the trials recorded before it are intact"
        ) from error
    print("\n".join(lines + write_results(study, folder)))


def database_error_behind(error: BaseException) -> BaseException | None:
    """The database driver's own error (``sqlite3.OperationalError: database or disk is full``,
    psycopg's) behind ``error``, which Optuna and SQLAlchemy wrap in messages of their own."""
    import sqlalchemy

    wrapped = behind(error, sqlalchemy.exc.DBAPIError)
    return None if wrapped is None else wrapped.orig


def one_line(error: Exception) -> str:
    """SQLAlchemy's messages run to several lines and a link; the first line says what went wrong."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
