def fit(*a, **k): raise NotImplementedError
NewtonCG = hessian_spectrum = None
