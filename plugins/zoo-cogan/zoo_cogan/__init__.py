"""zoo-cogan: the coupled GAN of Liu & Tuzel (2016), as mingyuliutw/CoGAN builds it for digits.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("cogan", pair="negative", ngf=64)
    >>> first, second = model.eval().sample_pairs(4, seed=0)
    >>> first.shape, model.sample(4, seed=0).shape
    (torch.Size([4, 1, 28, 28]), torch.Size([4, 1, 28, 56]))
"""
