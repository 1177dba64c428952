"""zoo-stackgan: StackGAN (Zhang et al. 2017), text to image in two stages, as hanzhanggit/StackGAN-Pytorch.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.load("stackgan.mnist")
    >>> model.sample(16, text="a thick seven slanting to the right", seed=0).shape
    torch.Size([16, 1, 64, 64])
"""
