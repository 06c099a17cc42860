"""Built-in connectors, each registered through the ``bluepaid`` entry-point group."""
