"""The DuckDB warehouse: table definitions (the contract with the semantic layer) and writers."""
