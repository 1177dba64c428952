"""zoo-dcgan: the DCGAN of Radford et al. (2015), as pytorch/examples ``dcgan/main.py`` builds it.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("dcgan", image_size=32, channels=1)
    >>> model.eval().sample(4, seed=0).shape
    torch.Size([4, 1, 32, 32])
"""
