"""Lightning autologging: one line records the hyperparameters from save_hyperparameters(), the
optimizer and Trainer settings, train_loss / val_loss / val_precision at every epoch, the
learning rate, the model summary and the trained model with its signature. A small classifier
on synthetic data, 5 epochs on the CPU in seconds. Stored in the embedded store
(./flightlog-runs). Run: python examples/lightning_autolog.py"""

from _look import how_to_look

import flightlog

flightlog.set_experiment("lightning-autolog")
flightlog.pytorch.autolog()  # MLflow's spelling; before or after importing lightning

import lightning as L  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402


def precision(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Of the samples predicted positive, the share that are (torchmetrics may not be here)."""
    predicted = logits.argmax(dim=1)
    true_positive = ((predicted == 1) & (y == 1)).sum().float()
    return true_positive / (predicted == 1).sum().clamp(min=1).float()


class Classifier(L.LightningModule):
    def __init__(self, features: int = 10, hidden: int = 32, lr: float = 0.01):
        super().__init__()
        self.save_hyperparameters()  # becomes the run's params
        self.net = nn.Sequential(
            nn.Linear(features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2),
        )
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", self.loss(logits, y))
        self.log("val_precision", precision(logits, y))

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}


torch.manual_seed(0)
X = torch.randn(4000, 10)
y = (X[:, 0] + X[:, 1] * X[:, 2] - 0.3 * X[:, 3] > 0).long()
train_loader = DataLoader(TensorDataset(X[:3200], y[:3200]), batch_size=64, shuffle=True)
val_loader = DataLoader(TensorDataset(X[3200:], y[3200:]), batch_size=256)

model = Classifier()
trainer = L.Trainer(
    max_epochs=5,
    accelerator="cpu",
    logger=False,
    enable_progress_bar=False,
    default_root_dir="flightlog-runs/lightning-autolog",
)
trainer.fit(model, train_loader, val_loader)

flightlog.flush()
run = flightlog.last_active_run()
client = flightlog.MlflowClient()
print(f"\nrun {run.info.run_id} in experiment {run.info.experiment_id} ({run.info.status})")
print(
    f"  params:  {len(run.data.params)} (hidden = {run.data.params['hidden']}, "
    f"optimizer = {run.data.params['optimizer_name']}, max_epochs = {run.data.params['max_epochs']})"
)
for key in ("train_loss", "val_loss", "val_precision", "lr-AdamW"):
    points = client.get_metric_history(run.info.run_id, key)
    values = ", ".join(f"{p.value:.4f}" for p in points)
    print(f"  {key:<14} steps {[p.step for p in points]}: {values}")
print("  files:   " + ", ".join(f.path for f in client.list_artifacts(run.info.run_id)))

loaded = flightlog.pytorch.load_model(f"runs:/{run.info.run_id}/model")
model.eval()
with torch.no_grad():
    assert torch.allclose(loaded(X[:100]), model(X[:100]))
predictions = flightlog.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(X[:5].numpy())
print(f"  the logged model loads back and predicts the same; pyfunc on numpy: {predictions.shape}")
how_to_look(run.info.run_id)
