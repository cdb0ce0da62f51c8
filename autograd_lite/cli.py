"""The ``autograd-lite`` command: each subcommand lives in the module that implements it.

Subcommands register themselves in ``COMMANDS`` as ``name -> "module:function"``; the
function receives the remaining arguments and returns an exit code. Modules are imported
only when their command runs, so ``autograd-lite --help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    # name: ("module:function", one-line help)
    "explain": ("autograd_lite.teaching.explain:main", "differentiate an expression and show backprop step by step"),
    "numpy": ("autograd_lite.numpy_routing:main", "list NumPy's functions: differentiable, plain by nature, refused"),
    "demo": ("nn.apps.demo:main", "train a network on handwritten digits and write pictures of what happened"),
    "mnist": ("nn.apps.mnist:main", "train on MNIST (--data DIR: the full IDX files), textbook or modern recipe"),
    "exercise": ("autograd_lite.exercises.command:main", "write an op's backward yourself, graded by property tests"),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``autograd-lite`` console script (and of ``python -m autograd_lite``)."""
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments or arguments[0] in ("-h", "--help"):
        stream = sys.stdout if arguments else sys.stderr  # no command at all is a usage error
        print("usage: autograd-lite COMMAND [options]\n\ncommands:", file=stream)
        for name, (_, summary) in COMMANDS.items():
            print(f"  {name:<10} {summary}", file=stream)
        print(
            "\nRun 'autograd-lite COMMAND --help' for a command's options, 'autograd-lite --version' for the version.",
            file=stream,
        )
        return 0 if arguments else 2
    if arguments[0] == "--version":
        from autograd_lite import __version__

        print(f"autograd-lite {__version__}")
        return 0
    if arguments[0] not in COMMANDS:
        print(f"autograd-lite: unknown command {arguments[0]!r}; choose from {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return run_command(arguments[0], arguments[1:])


def run_command(name: str, arguments: list[str]) -> int:
    """Run one subcommand; whatever escapes it is one line on stderr, never a traceback.

    Ctrl-C exits with 130, a closed pipe (``autograd-lite numpy | head``) quietly with 1, and
    an unexpected error with 1 and a line naming it; set ``AUTOGRAD_LITE_TRACEBACK=1`` to see
    the traceback instead (to report a bug).
    """
    module_name, function_name = COMMANDS[name][0].split(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        return int(function(arguments) or 0)
    except KeyboardInterrupt:
        print(f"\nautograd-lite {name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away; later writes to stdout must not raise again at exit
        _silence_stdout()
        return 1
    except MemoryError:
        print(f"autograd-lite {name}: out of memory; try smaller inputs or free some memory", file=sys.stderr)
        return 1
    except Exception as error:
        if os.environ.get("AUTOGRAD_LITE_TRACEBACK"):
            raise
        message = " ".join(str(error).split())[:300] or "(no message)"
        print(
            f"autograd-lite {name}: unexpected {type(error).__name__}: {message} "
            "(AUTOGRAD_LITE_TRACEBACK=1 shows where; please report it)",
            file=sys.stderr,
        )
        return 1


def _silence_stdout() -> None:
    """Point stdout at the null device, so Python's final flush does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced (tests) or already closed
        pass


if __name__ == "__main__":
    sys.exit(main())
