"""Stage 1, the model: what the YAML files under ``semantic/models/`` declare, as typed objects.

``spec`` holds the immutable dataclasses, ``source`` reads YAML remembering lines, ``loader``
validates and builds the :class:`~semantic.model.spec.Model`. Imports nothing of the later
stages (plan, sql, answer, surfaces).
"""
