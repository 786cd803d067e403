"""Lightning with flightlog's callback (no autolog): FlightlogCallback records the fit into a run
you start yourself, with early stopping; the logged model is the best checkpoint. The same
records come from `Trainer(logger=flightlog.lightning.FlightlogLogger())`.
Stored in the embedded store (./flightlog-runs). Run: python examples/lightning_callback.py"""

import lightning as L
import torch
from _look import how_to_look
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import flightlog
from flightlog.lightning import FlightlogCallback


class Regressor(L.LightningModule):
    def __init__(self, hidden: int = 16, lr: float = 0.02):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(6, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.log("train_mse", loss, on_step=True, on_epoch=True)  # epoch mean + per step
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_mse", nn.functional.mse_loss(self(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)


torch.manual_seed(0)
X = torch.randn(2000, 6)
y = X @ torch.tensor([1.0, -2.0, 0.5, 0.0, 0.3, 1.5]) + 0.3 * torch.randn(2000)
train_loader = DataLoader(TensorDataset(X[:1600], y[:1600]), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(X[1600:], y[1600:]), batch_size=200)

flightlog.set_experiment("lightning-callback")
with flightlog.start_run(run_name="regressor-early-stopping") as run:
    trainer = L.Trainer(
        max_epochs=30,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        default_root_dir="flightlog-runs/lightning-callback",
        callbacks=[
            FlightlogCallback(log_every_n_step=25),  # also step-level points every 25 steps
            EarlyStopping(monitor="val_mse", patience=3, min_delta=1e-3),
            ModelCheckpoint(monitor="val_mse", mode="min"),
        ],
    )
    trainer.fit(Regressor(), train_loader, val_loader)
    flightlog.set_tag("note", "trained with an explicit FlightlogCallback")

flightlog.flush()
client = flightlog.MlflowClient()
run = client.get_run(run.info.run_id)
curve = client.get_metric_history(run.info.run_id, "val_mse")
print(f"\nrun {run.info.run_id} ({run.info.status})")
print(
    f"  stopped at epoch {run.data.params['early_stopping_stopped_epoch']} "
    f"(patience {run.data.params['early_stopping_patience']})"
)
print(f"  val_mse: {len(curve)} epochs, from {curve[0].value:.4f} to {curve[-1].value:.4f}")
print(
    f"  train_mse_step: {len(client.get_metric_history(run.info.run_id, 'train_mse_step'))} points"
)
print(f"  model: {run.data.tags['flightlog.lightning.model_source']}")
best = flightlog.pytorch.load_model(f"runs:/{run.info.run_id}/model")
print(f"  best model's val_mse: {nn.functional.mse_loss(best(X[1600:]), y[1600:]).item():.4f}")
how_to_look(run.info.run_id)
