"""What the tests share: tiny MNIST files, running the programs, reading what they wrote, users' pictures."""
