"""zoo-gan: the adversarial nets of Goodfellow et al. (2014), as ``goodfeli/adversarial`` trains them on MNIST.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("gan", g_hidden=32, d_units=8)
    >>> model.eval().sample(4, seed=0).shape
    torch.Size([4, 1, 28, 28])
"""
