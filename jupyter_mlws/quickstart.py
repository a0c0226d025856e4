"""The quickstart: a small, dependency-free training job that shows the workspace end to end.

``mlws quickstart`` runs :func:`train` inside an interactive run and registers the model it writes.
The same file runs as a job script: ``python quickstart.py`` logs to ``Run.get_context()``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
from typing import Any

__all__ = ["make_data", "train"]


def make_data(n: int = 400, seed: int = 0) -> list[tuple[float, float, int]]:
    """Two noisy blobs in the plane: points ``(x1, x2, label)``."""
    rng = random.Random(seed)
    data = []
    for _ in range(n):
        label = rng.random() < 0.5
        cx = 1.0 if label else -1.0
        data.append((rng.gauss(cx, 0.9), rng.gauss(cx * 0.5, 0.9), int(label)))
    return data


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))


def train(run: Any, epochs: int = 20, learning_rate: float = 0.5, seed: int = 0, output_dir: str = "outputs") -> str:
    """Fit a logistic regression by gradient descent, logging loss and accuracy every epoch.

    Writes ``<output_dir>/model.json`` and returns its path.
    """
    data = make_data(seed=seed)
    run.log_params({"epochs": epochs, "learning_rate": learning_rate, "seed": seed, "model": "logistic"})
    w1 = w2 = b = 0.0
    for epoch in range(epochs):
        g1 = g2 = gb = loss = 0.0
        correct = 0
        for x1, x2, y in data:
            p = _sigmoid(w1 * x1 + w2 * x2 + b)
            loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
            correct += int((p >= 0.5) == bool(y))
            g1 += (p - y) * x1
            g2 += (p - y) * x2
            gb += p - y
        n = len(data)
        w1 -= learning_rate * g1 / n
        w2 -= learning_rate * g2 / n
        b -= learning_rate * gb / n
        run.log("loss", loss / n, step=epoch)
        run.log("accuracy", correct / n, step=epoch)
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, "model.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"w1": w1, "w2": w2, "b": b}, f)
    run.upload_file("outputs/model.json", path)
    return path


def main() -> None:  # pragma: no cover - exercised as a job script
    parser = argparse.ArgumentParser(description="Train the quickstart model")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--learning-rate", type=float, default=0.5)
    args = parser.parse_args()
    from jupyter_mlws import Run

    run = Run.get_context()
    train(run, epochs=args.epochs, learning_rate=args.learning_rate)


if __name__ == "__main__":  # pragma: no cover
    main()
