"""The recipe around a network (loss, metrics, optimizer, schedule, logging) and the callbacks a run uses."""
