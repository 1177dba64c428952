"""zoo-wgan: the Wasserstein GAN of Arjovsky et al. (2017), as martinarjovsky/WassersteinGAN builds and trains it.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("wgan", image_size=32, channels=1)
    >>> model.eval().sample(4, seed=0).shape
    torch.Size([4, 1, 32, 32])
"""
