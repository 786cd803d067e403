"""PyTorch Lightning autologging (the mlflow.pytorch.autolog spelling), as in MLflow's
pytorch example: a tiny LightningModule trained for two epochs."""

import json

import lightning as L
import mlflow
import torch
from torch.utils.data import DataLoader, TensorDataset


class Tiny(L.LightningModule):
    def __init__(self, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(3, 1)

    def forward(self, x):
        return self.layer(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


torch.manual_seed(0)
X = torch.randn(64, 3)
y = X.sum(dim=1, keepdim=True)
train = DataLoader(TensorDataset(X[:48], y[:48]), batch_size=16)
valid = DataLoader(TensorDataset(X[48:], y[48:]), batch_size=16)
mlflow.set_experiment("compat-lightning")
mlflow.pytorch.autolog()
with mlflow.start_run(run_name="fit") as run:
    trainer = L.Trainer(
        max_epochs=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(Tiny(), train, valid)
mlflow.pytorch.autolog(disable=True)
loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
results = {"prediction_shape": list(loaded.predict(X[:4].numpy()).shape)}
with open("results.json", "w") as f:
    json.dump(results, f)
