"""The private names of PyTorch's TensorBoard writer (``torch.utils.tensorboard``) this project
relies on: ``SummaryWriter`` gives no public way to the file writer under it, where the HPARAMS
entry is added as raw summaries (training/hparams_tab.py), nor to the events file's name and the
thread that writes it, which a full disk stops (storage/event_files.py)."""


def file_writer(writer):
    """The ``FileWriter`` of a ``SummaryWriter`` (``add_summary`` takes raw protobuf summaries)."""
    return writer._get_file_writer()


def events_file(writer):
    """``(event_writer, path of the events file, class of the thread that writes it)`` of a
    ``SummaryWriter``; the event writer's ``add_event``, ``flush`` and ``close`` are its public face."""
    events = writer._get_file_writer().event_writer
    return events, events._file_name, type(events._async_writer._worker)
