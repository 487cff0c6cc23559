"""The Hessian of a small classifier's loss as a linear operator: Lanczos estimates of its
extreme eigenvalues, then a damped Newton step solved by conjugate gradients, both using
only Hessian-vector products (``sg.linearize_hvp``). See docs/higher-order.md.

    python examples/hessian_krylov.py
"""
from __future__ import annotations

import numpy as np

import symgraph as sg


def lanczos(H, k, rng):
    """k steps of Lanczos: the tridiagonal T whose eigenvalues approximate H's extremes."""
    n = H.shape[0]
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    Q, alpha, beta = [q], [], []
    q_prev, b = np.zeros(n), 0.0
    for j in range(k):
        w = H.matvec(q) - b * q_prev
        a = q @ w
        w -= a * q
        for u in Q:                       # full re-orthogonalisation: k is small
            w -= (u @ w) * u
        alpha.append(a)
        b = np.linalg.norm(w)
        if j == k - 1 or b < 1e-12:
            break
        beta.append(b)
        q_prev, q = q, w / b
        Q.append(q)
    T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    return np.linalg.eigvalsh(T)


def cg(matvec, b, tol=1e-10, maxiter=200):
    d = np.zeros_like(b); r = b.copy(); p = r.copy(); rr = r @ r
    for i in range(maxiter):
        Ap = matvec(p)
        alpha = rr / (p @ Ap)
        d += alpha * p; r -= alpha * Ap
        rr_new = r @ r
        if np.sqrt(rr_new) < tol * np.linalg.norm(b):
            return d, i + 1
        p = r + (rr_new / rr) * p; rr = rr_new
    return d, maxiter


def main() -> None:
    rng = np.random.default_rng(0)
    x = sg.var("x", (64, 8))
    labels = sg.var("labels", (64,), "int64")
    W1 = sg.param(rng.standard_normal((8, 16)) / np.sqrt(8), name="W1")
    b1 = sg.param(np.zeros(16), name="b1")
    W2 = sg.param(rng.standard_normal((16, 3)) / 4.0, name="W2")
    b2 = sg.param(np.zeros(3), name="b2")
    params = [W1, b1, W2, b2]
    logits = sg.tanh(x @ W1 + b1) @ W2 + b2
    loss = -sg.mean(sg.log_softmax(logits)[sg.arange(64), labels])
    X, Y = rng.standard_normal((64, 8)), rng.integers(0, 3, 64)

    H = sg.linearize_hvp(loss, params, inputs=[x, labels])   # compiled once
    H.at(X, Y)                                                # forward pass + gradient, once
    print(H)
    ritz = lanczos(H, 30, rng)
    print(f"Lanczos, 30 matvecs:      smallest {ritz[0]:.6f}  largest {ritz[-1]:.6f}")
    exact = np.linalg.eigvalsh(H.to_dense())
    print(f"dense Hessian, {H.shape[0]} matvecs: smallest {exact[0]:.6f}  largest {exact[-1]:.6f}")

    lam = max(0.0, -ritz[0]) + 0.1      # damping from the Lanczos estimate: H + lam I > 0
    step, iters = cg(lambda v: H.matvec(v) + lam * v, -H.grad)
    for p, s in zip(params, H.unflatten(step)):
        p.value = p.value + s
    after = sg.function([x, labels], loss)(X, Y)
    print(f"damped Newton step (lambda {lam:.3f}), CG {iters} iterations: "
          f"loss {float(H.value):.6f} -> {float(after):.6f}")


if __name__ == "__main__":
    main()
