"""Stage 5, the surfaces: how people ask. ``query`` holds ``query_metrics``, ``explain`` and
``capabilities`` (re-exported by ``semantic``), ``cli`` the ``testio-semantic`` command. The
notebook helper is ``semantic.notebook``, at the top because notebooks import it by that path.
"""
