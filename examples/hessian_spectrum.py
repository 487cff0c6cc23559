"""The Hessian's extreme eigenvalues by Lanczos, at initialisation and after training, on
the 1-16-1 tanh regression of ``optimizers_compared``. Lanczos only needs Hessian-vector
products; for this small model the full Hessian is cheap too, so both are printed.

At a minimum every eigenvalue is >= 0 (up to round-off); a clearly negative one means a
saddle region, where plain Newton steps would be attracted the wrong way.

    python examples/hessian_spectrum.py
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from symgraph import optim  # noqa: E402
from optimizers_compared import problem  # noqa: E402


def spectrum(loss, params, inputs, data, k: int) -> dict:
    lanczos = optim.hessian_spectrum(loss, params, inputs, data, k=k)
    model = optim.FlatModel(loss, params, inputs)
    model.set_data(*data)
    exact = np.linalg.eigvalsh(model.hessian())
    return {"lanczos_min": lanczos.min, "lanczos_max": lanczos.max, "exact_min": float(exact[0]),
            "exact_max": float(exact[-1]), "saddle": lanczos.is_saddle,
            "loss": model.loss(), "grad_norm": float(np.linalg.norm(model.loss_grad()[1]))}


def main(small: bool = False, seed: int = 0) -> dict:
    loss, params, inputs, data = problem(seed)
    k = 30 if small else 49
    before = spectrum(loss, params, inputs, data, k)
    solver = optim.NewtonCG(loss, params, inputs, cg_iters=30, damping=1e-6)
    for _ in range(40 if small else 100):
        solver.step(*data)
    after = spectrum(loss, params, inputs, data, k)
    if not small:
        for name, s in (("at initialisation", before), ("after training", after)):
            print(f"{name}: loss {s['loss']:.3e}, |grad| {s['grad_norm']:.1e}")
            print(f"  Lanczos ({k} steps): lambda_min {s['lanczos_min']:+.4e}  lambda_max {s['lanczos_max']:+.4e}")
            print(f"  full Hessian       : lambda_min {s['exact_min']:+.4e}  lambda_max {s['exact_max']:+.4e}")
            print(f"  {'saddle region (negative curvature)' if s['saddle'] else 'no negative curvature: a minimum'}")
    return {"before": before, "after": after}


if __name__ == "__main__":
    main()
