"""zoo-autoencoder: the plain deterministic autoencoder (784-300 ReLU-784 sigmoid), with a Gaussian fitted to its codes.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.load("autoencoder.mnist")
    >>> model.decode(model.encode(digits)).shape
    torch.Size([N, 1, 28, 28])
"""
