"""An Optuna study as a flightlog sweep: one parent run, one child run per trial.

Two trials run at once (n_jobs=2, two threads); each trial trains an SGD classifier epoch by
epoch, reports its validation accuracy so the median pruner can stop poor trials early, then
fits the final model with `fit`, which scikit-learn autolog records *in that trial's own child
run* (params, training metrics, the model). The parent gets the study's sampler, pruner and
direction, a live summary (best_value per trial, counts per state) and best_<param> params.
Under a minute on a CPU. Stored in the embedded store (./flightlog-runs); open it with
`flightlog ui` and click the study's run to see the trials table and charts.
Run: python examples/optuna_sweep.py"""

import optuna
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

import flightlog

flightlog.set_experiment("optuna-sweep")
flightlog.autolog(log_models=False)  # Optuna and scikit-learn (and any other installed framework)
optuna.logging.set_verbosity(optuna.logging.WARNING)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0)
CLASSES = sorted(set(y))


def objective(trial: optuna.Trial) -> float:
    params = {
        "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
        "loss": trial.suggest_categorical("loss", ["hinge", "log_loss", "modified_huber"]),
        "penalty": trial.suggest_categorical("penalty", ["l2", "l1", "elasticnet"]),
    }
    probe = SGDClassifier(**params, random_state=0)
    for epoch in range(8):  # partial_fit is not autologged: only the final fit makes a model
        probe.partial_fit(X_train, y_train, classes=CLASSES)
        accuracy = probe.score(X_val, y_val)
        trial.report(accuracy, epoch)  # intermediate_value history in the trial's child run
        if trial.should_prune():
            raise optuna.TrialPruned()
    model = SGDClassifier(**params, max_iter=20, tol=None, random_state=0).fit(X_train, y_train)
    flightlog.log_metric("val_accuracy", model.score(X_val, y_val))  # into the same child
    return model.score(X_val, y_val)


study = optuna.create_study(
    study_name="sgd-digits",
    direction="maximize",
    sampler=optuna.samplers.TPESampler(seed=0),
    pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
)
study.optimize(objective, n_trials=24, n_jobs=2)

parent = next(
    r for r in flightlog.search_runs(output_format="list") if "flightlog.sweep.key" in r.data.tags
)
tags = parent.data.tags
print(f"study {study.study_name}: parent run {parent.info.run_id}")
print(
    f"  {tags['flightlog.sweep.n_complete']} complete, {tags['flightlog.sweep.n_pruned']} pruned,"
    f" {tags['flightlog.sweep.n_failed']} failed; best accuracy {study.best_value:.4f}"
    f" (trial {tags['flightlog.sweep.best_trial']}, run {tags['flightlog.sweep.best_run_id']})"
)
print(f"  best params: {study.best_params}")
