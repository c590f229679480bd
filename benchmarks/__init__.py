"""Speed benchmarks: semnet against semopy and lavaan on lavaan's tutorial models.

Run from the repository root::

    python -m benchmarks            # 15 rounds of turns, at least 100 ms per tool and task
    python -m benchmarks --quick    # one run per tool and task, for a smoke check
    python -m benchmarks --rounds 30 --no-lavaan

Each timing is "model text to estimates": parse the model, fit it, and build the
table of estimates with standard errors (semnet ``cfa``/``sem`` + ``estimates()``,
semopy ``Model`` + ``fit`` + ``inspect()``, lavaan ``cfa``/``sem`` +
``parameterEstimates()``), timed after warm-up runs; the table reports medians.  The
tools take turns on each task, round after round, so that they are timed in the same
moments of a machine whose speed drifts; lavaan runs in one R session that waits for
its turns (R's start-up is excluded).  Before anything is timed, each tool's
chi-square is checked against semnet's, so a benchmark never times a wrong answer.

Modules: :mod:`benchmarks.tasks` (the models and the per-tool runners),
:mod:`benchmarks.lavaan` (the R side), :mod:`benchmarks.__main__` (the table).
"""
