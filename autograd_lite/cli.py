"""The ``autograd-lite`` command: each subcommand lives in the module that implements it.

Subcommands register themselves in ``COMMANDS`` as ``name -> "module:function"``; the
function receives the remaining arguments and returns an exit code. Modules are imported
only when their command runs, so ``autograd-lite --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    # name: ("module:function", one-line help)
    "explain": ("autograd_lite.teaching.explain:main", "differentiate an expression and show backprop step by step"),
    "numpy": ("autograd_lite.numpy_routing:main", "list NumPy's functions: differentiable, plain by nature, refused"),
    "demo": ("nn.apps.demo:main", "train a network on handwritten digits and write pictures of what happened"),
    "mnist": ("nn.apps.mnist:main", "train on MNIST (--data DIR: the full IDX files), textbook or modern recipe"),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``autograd-lite`` console script."""
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments or arguments[0] in ("-h", "--help"):
        stream = sys.stdout if arguments else sys.stderr  # no command at all is a usage error
        print("usage: autograd-lite COMMAND [options]\n\ncommands:", file=stream)
        for name, (_, summary) in COMMANDS.items():
            print(f"  {name:<10} {summary}", file=stream)
        print("\nRun 'autograd-lite COMMAND --help' for a command's options.", file=stream)
        return 0 if arguments else 2
    if arguments[0] not in COMMANDS:
        print(f"autograd-lite: unknown command {arguments[0]!r}; choose from {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module_name, function_name = COMMANDS[arguments[0]][0].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return int(function(arguments[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
