"""Teaching tools: see the graph and the chain rule with real numbers.

- ``viz``: draw the recorded graph with Graphviz (``ag.draw_graph``).
- ``trace``: record a real backward pass step by step (``ag.trace_backward``) and print it.
- ``stepper``: the interactive HTML page of a trace (its markup, style and script are files in ``static/``).
- ``expression``: the whitelisting evaluator of typed expressions; ``explain``: the ``autograd-lite explain`` command.

These modules use only the engine's public API. The trace watches the engine's own
backward through the step hook of ``run_backward(on_step=...)``, whose contract is
documented on :data:`autograd_lite.engine.StepHook`.
"""
