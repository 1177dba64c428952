"""zoo-wgan-gp: the WGAN-GP of Gulrajani et al. (2017), as igul222/improved_wgan_training trains MNIST.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("wgan-gp", dim=16)
    >>> model.eval().sample(4, seed=0).shape
    torch.Size([4, 1, 28, 28])
"""
