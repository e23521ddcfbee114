"""The `netzops` program's start (`program`, the console script) and the start-up costs it
declines (`decline()`, before anything else runs).

A `run` is first offered to this checkout's resident server (`runner.handover`), before even
click is imported: the server has the runner imported and runs the command in a fork of
itself, on this terminal. When none answers, the command line runs in this process.

jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which compiles a
grammar for IRI format checks at import time: about 3 s on every start. Notebook schemas
use no IRI formats, so the CLI goes without it. jupytext's Jupyter contents managers import
jupyter_server and tornado; the CLI only converts notebooks, so it goes without them too.
jupytext imports markdown-it for its MyST format when installed (0.13–0.3 s of every
`netzops run`); runbook notebooks are py:percent, so the CLI goes without MyST.
"""

import sys


def decline() -> None:
    """Hide the modules above from this process. Only the program calls it: a process that
    imports netzops as a library (JupyterLab, tests) keeps them."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    for manager in ("jupytext.sync_contentsmanager", "jupytext.async_contentsmanager"):
        sys.modules.setdefault(manager, None)  # type: ignore[arg-type]
    sys.modules.setdefault("markdown_it", None)  # type: ignore[arg-type]


def program() -> None:
    """The `netzops` program: a `run` handed over when a server answers, else the command
    line here with the start-up costs above declined."""
    if sys.argv[1:2] == ["run"]:
        from netzops.runner.handover import hand_over

        code = hand_over(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    decline()
    from netzops.cli import main

    main()
