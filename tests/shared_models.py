"""Models and data the tests share: the Holzinger–Swineford three-factor CFA (lavaan's
``HS.model``) and, in conftest.py, its data as the ``hs`` fixture."""

HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""
