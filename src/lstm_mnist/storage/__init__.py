"""What a run leaves on disk: files written whole or not at all, a folder per run, checkpoints read safely."""
