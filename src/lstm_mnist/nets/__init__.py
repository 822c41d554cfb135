"""The networks: plain PyTorch modules that map ``[batch, 28, 28]`` images to ``[batch, 10]`` logits.

One family a file. Nothing here imports Lightning: a network can be studied, tested and reused
without the training code.
"""
