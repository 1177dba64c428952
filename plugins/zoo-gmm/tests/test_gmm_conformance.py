"""zoo's conformance kit (zoo_core.testing) on the gmm architecture, one test per check.

The same checks as `zoo plugin check zoo-gmm`: config round trip, meta build, the task verbs (sample,
classify, features), eval mode, determinism, save -> load, the closed-form training step (3 EM
iterations on 6x6 digits), the registry entries and their cards.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("gmm")
