"""Action sheets with a double signature and the 30-day test sheet (the `actions` kind)."""
