"""Stage 4, the answer: compiled SQL run on a warehouse connection, and what comes with it.

Opening the warehouse, executing with a timeout, the result type, the explanation in words
and the freshness of the tables read. Imports the earlier stages, never ``surfaces``.
"""
