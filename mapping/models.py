"""The three-circle map arrives with its own issue; the app holds its place."""
