"""zoo-pixelcnnpp: PixelCNN++ (Salimans et al. 2017) with naive and cached fast sampling.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.load("pixelcnnpp.mnist")
    >>> model.sample(16, seed=0).shape
    torch.Size([16, 1, 28, 28])
"""
