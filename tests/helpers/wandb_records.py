"""What an offline Weights & Biases run stored, read back from its transaction log
(``run-ID.wandb``): the history rows and the config keys. The log is LevelDB's record format
(wandb's own reader is no longer shipped): a 7-byte file header, then 32 KiB blocks of records,
each a 7-byte header (checksum, length, kind: whole, first, middle, last) and protobuf bytes."""

import struct
from pathlib import Path

BLOCK = 32 * 1024
HEADER = 7
WHOLE, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path):
    raw = path.read_bytes()
    assert raw[:4] == b":W&B", raw[:7]
    position, pending = HEADER, b""
    while position + HEADER <= len(raw):
        left = BLOCK - position % BLOCK
        if left < HEADER:  # a block's tail too short for a header is padding
            position += left
            continue
        _, length, kind = struct.unpack("<IHB", raw[position : position + HEADER])
        position += HEADER
        data = raw[position : position + length]
        position += length
        if kind == WHOLE:
            yield data
        elif kind == FIRST:
            pending = data
        elif kind == MIDDLE:
            pending += data
        elif kind == LAST:
            yield pending + data


def offline_run(folder: Path) -> tuple[list[dict[str, str]], set[str]]:
    """``(history rows, config keys)`` of the one offline run under ``folder``."""
    from wandb.proto import wandb_internal_pb2

    [log] = folder.rglob("run-*.wandb")
    history, config = [], set()
    for data in records(log):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history.append({item.key or "/".join(item.nested_key): item.value_json for item in record.history.item})
        elif kind == "config":
            config |= {item.key for item in record.config.update}
    return history, config
