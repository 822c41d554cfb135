"""Where images come from: MNIST's IDX files, the batches cut from them, and users' own pictures."""
