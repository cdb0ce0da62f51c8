"""Benchmarks: autograd_lite against hand-written NumPy backprop (the floor) and PyTorch (when installed)."""
