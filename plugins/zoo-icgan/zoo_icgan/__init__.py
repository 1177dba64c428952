"""zoo-icgan: the Invertible Conditional GAN of Perarnau et al. (2016), as Guim3/IcGAN builds and trains it.

A conditional DCGAN (the class enters the generator with z and the discriminator after its first
convolution) and two encoders trained after it, E_z (image -> z) and E_y (image -> class), so
that an image's class can be changed while its style is kept: ``edit(x, y) = G(E_z(x), y)``.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("icgan", image_size=32, channels=1)
    >>> model.eval().sample(4, labels=7, seed=0).shape
    torch.Size([4, 1, 32, 32])
"""
