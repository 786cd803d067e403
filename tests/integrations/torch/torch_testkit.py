"""Small PyTorch pieces the torch integration tests share: data, a model, a training loop."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_loaders(seed: int = 0, n: int = 96, batch_size: int = 16):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    split = n * 2 // 3
    train = DataLoader(
        TensorDataset(x[:split], y[:split]),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    val = DataLoader(TensorDataset(x[split:], y[split:]), batch_size=batch_size)
    return train, val


class TinyNet(nn.Module):
    def __init__(self, hidden: int = 8) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def forward(self, x):
        return self.body(x)


def train(epochs: int = 3, seed: int = 0, lr: float = 0.05, scheduler: bool = True):
    """A hand-written loop; returns (model, its own per-epoch mean losses)."""
    torch.manual_seed(seed)
    train_loader, val_loader = make_loaders(seed)
    model = TinyNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = (
        torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5) if scheduler else None
    )
    loss_fn = nn.CrossEntropyLoss()
    own = {"train_loss": [], "val_loss": [], "lr": []}
    for _ in range(epochs):
        model.train()
        losses = []
        own["lr"].append(optimizer.param_groups[0]["lr"])
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        own["train_loss"].append(sum(losses) / len(losses))
        model.eval()
        losses = []
        with torch.no_grad():
            for x, y in val_loader:
                losses.append(loss_fn(model(x), y).item())
        own["val_loss"].append(sum(losses) / len(losses))
        if sched is not None:
            sched.step()
    return model, own


def history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]
