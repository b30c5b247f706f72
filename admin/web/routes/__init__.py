"""One module per admin resource; each exposes `router` and declares a Policy on every route."""
