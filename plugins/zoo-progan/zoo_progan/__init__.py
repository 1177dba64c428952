"""zoo-progan: the Progressive GAN of Karras et al. (2018), as tkarras/progressive_growing_of_gans's G_paper / D_paper.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("progan", resolution=8, fmap_base=64, fmap_max=16)
    >>> model.eval().sample(4, seed=0).shape
    torch.Size([4, 1, 8, 8])
"""
