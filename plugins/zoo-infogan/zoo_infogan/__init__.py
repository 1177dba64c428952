"""zoo-infogan: InfoGAN of Chen et al. (2016), as openai/InfoGAN builds and trains it on MNIST.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("infogan")
    >>> model.eval().sample(4, seed=0, codes={"category": 3}).shape
    torch.Size([4, 1, 28, 28])
"""
