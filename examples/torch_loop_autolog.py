"""Autologging a hand-written PyTorch loop, with no change to the loop: the optimizer and its
hyperparameters, the model's parameter count, train_loss and val_loss per epoch (the epoch means
of the nn.CrossEntropyLoss values, training ones with grad, validation ones under no_grad) and
the learning rate; then the model is logged and loaded back. Seconds on a CPU.
Stored in the embedded store (./flightlog-runs). Run: python examples/torch_loop_autolog.py"""

from _look import how_to_look

import flightlog

flightlog.set_experiment("torch-loop-autolog")
flightlog.torch.autolog()

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

torch.manual_seed(0)
X = torch.randn(3000, 12)
y = (X[:, :4].sum(dim=1) > 0).long()
train_loader = DataLoader(TensorDataset(X[:2400], y[:2400]), batch_size=64, shuffle=True)
val_loader = DataLoader(TensorDataset(X[2400:], y[2400:]), batch_size=256)

model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=5)
loss_fn = nn.CrossEntropyLoss()

with flightlog.start_run(run_name="plain-loop"):
    flightlog.torch.watch(model, every_n_steps=50)  # opt-in: gradient and weight norms
    for epoch in range(5):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        model.eval()
        correct, losses = 0, []
        with torch.no_grad():
            for xb, yb in val_loader:
                logits = model(xb)
                losses.append(loss_fn(logits, yb).item())
                correct += (logits.argmax(1) == yb).sum().item()
        scheduler.step()
        print(
            f"epoch {epoch}: val loss {sum(losses) / len(losses):.4f}, accuracy {correct / 600:.3f}"
        )
    info = flightlog.torch.log_model(model, "model", input_example=X[:5].numpy())

flightlog.flush()
run = flightlog.last_active_run()
client = flightlog.MlflowClient()
print(f"\nrun {run.info.run_id} ({run.info.status})")
print(
    f"  params: optimizer {run.data.params['optimizer_name']}, lr {run.data.params['optimizer_lr']}, "
    f"{run.data.params['model_parameter_count']} parameters"
)
for key in ("train_loss", "val_loss", "lr", "grad_norm"):
    points = client.get_metric_history(run.info.run_id, key)
    print(f"  {key:<10} steps {[p.step for p in points]}")
loaded = flightlog.torch.load_model(info.model_uri)
with torch.no_grad():
    assert torch.allclose(loaded(X[:50]), model(X[:50]))
print(f"  {info.model_uri} loads back and predicts the same")
how_to_look(run.info.run_id)
