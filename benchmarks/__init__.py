"""Speed benchmarks: semnet against semopy and lavaan on lavaan's tutorial models.

Run from the repository root::

    python -m benchmarks            # 20 timed runs per task and tool
    python -m benchmarks --quick    # 3 timed runs, for a smoke check
    python -m benchmarks --repeat 50

Each timing is "model text to estimates": parse the model, fit it, and build the
table of estimates with standard errors (semnet ``cfa``/``sem`` + ``estimates()``,
semopy ``Model`` + ``fit`` + ``inspect()``, lavaan ``cfa``/``sem`` +
``parameterEstimates()``), timed after a warm-up run; the table reports medians.
lavaan is timed inside one R session (R's start-up is excluded).  Before anything is
timed, each tool's chi-square is checked against semnet's, so a benchmark never
times a wrong answer.

Modules: :mod:`benchmarks.tasks` (the models and the per-tool runners),
:mod:`benchmarks.lavaan` (the R side), :mod:`benchmarks.__main__` (the table).
"""
