"""The hub-level part of the partner test kit.

- :mod:`hub.testing.conformance`: the conformance suite a connector's tests subclass;
- :mod:`hub.testing.shop_double`: an HTTP double of a shop's API, on ``responses``;
- :mod:`hub.testing.kit`: a hub on a temporary database with one connector loaded;
- :mod:`hub.testing.driver`: playing the buyer and the platform against a hub;
- :mod:`hub.testing.stack`: the hub and the sandbox served over real HTTP;
- :mod:`hub.testing.pytest_plugin`: the fixtures and the conformance report
  (installed as a pytest plugin with the package);
- :mod:`hub.testing.report`: the report's format, read by ``bluepaid plugins``.

Nothing is imported here, so that loading the pytest plugin costs nothing.
"""
