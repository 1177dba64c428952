"""zoo's conformance kit (zoo_core.testing) on the stargan architecture, one test per check, on its tiny test_config.

The same checks as `zoo plugin check zoo-stargan`: config round trip, meta build, the task verbs, eval mode,
determinism, save -> load, a training step on mnist5k-attributes (n_critic 1, so that it reaches the generator),
the registry entries (the authors' files and their Hub copies) and their cards.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("stargan")
