"""zoo-nade: NADE (Larochelle & Murray 2011), a density model of binary images with O(HD) sampling.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.load("nade.mnist")
    >>> model.sample(16, seed=0).shape
    torch.Size([16, 1, 28, 28])
"""
