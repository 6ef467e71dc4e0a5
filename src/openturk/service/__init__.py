"""The marketplace's domain: no HTTP and no SQL strings, one module per area."""
