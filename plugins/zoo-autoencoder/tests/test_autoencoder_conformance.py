"""zoo's conformance kit (zoo_core.testing) on the autoencoder architecture, one test per check, on its tiny
test_config: the same checks as `zoo plugin check zoo-autoencoder`.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("autoencoder")
