"""From API payloads to warehouse rows: fetch orchestration, normalisation, derived users."""
